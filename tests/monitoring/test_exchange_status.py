"""The paper exchange in a maintenance window shows as unreachable on /status, while
/readyz of the web process stays 200 (it never depends on the exchange)."""

import pytest

from tests.accounts.factories import make_user, otp_login
from tests.exchange.support.paper import PaperAdmin, start_paper_exchange

pytestmark = pytest.mark.django_db


@pytest.fixture
def paper(settings, redis_client):
    server = start_paper_exchange()
    settings.PAPER_EXCHANGE_URL = server.url
    yield server
    server.stop()


def test_maintenance_window_is_unreachable_and_readyz_stays_up(client, paper):
    from apps.exchange.tasks import sample_exchange_connectivity

    otp_login(client, make_user("ops-exchange", superuser=True))
    healthy = sample_exchange_connectivity.run("paper")
    assert "error" not in healthy
    page = client.get("/status").content.decode()
    assert "reachable" in _paper_row(page)
    assert "unreachable" not in _paper_row(page)

    admin = PaperAdmin(paper.url)
    admin.session.post(
        f"{paper.url}/admin/faults", json={"maintenanceSeconds": 120}, timeout=10
    ).raise_for_status()
    down = sample_exchange_connectivity.run("paper")
    assert down["error"]
    data = client.get("/status?format=json").json()
    assert data["exchange"]["connectivity"]["paper"]["error"] == down["error"]
    assert "unreachable" in _paper_row(client.get("/status").content.decode())
    assert client.get("/readyz").status_code == 200


def _paper_row(page: str) -> str:
    table = page[page.index('id="exchange"') :]
    row = table[table.index("<td>paper</td>") :]
    return row[: row.index("</tr>")]
