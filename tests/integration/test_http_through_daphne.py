"""HTTP through the real web process (daphne, apps/core/asgi_handler.py): a streamed
export whose rows are read from the database while it is sent, and many requests at
once, each answered in full (they share the process's leased request threads)."""

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest
import requests
from django.test import Client

from apps.trading.models import Fill
from tests.accounts.factories import make_org, member, otp_login
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db(transaction=True)  # daphne reads what the test wrote


@pytest.fixture
def desk(redis_client):
    sync_default_symbols()
    org = make_org("Streamed exports")
    account = active_account(org, name="Streamed desk")
    config = make_config(account)
    for n in range(40):
        fill(order_for(config, quantity="1"), price=str(100 + n), quantity="1")
    client = Client()
    otp_login(client, member(org, "viewer"))
    return {"account": account, "cookie": client.cookies["sessionid"].value}


def _get(daphne_server, path: str, cookie: str) -> requests.Response:
    return requests.get(
        f"{daphne_server.base_url}{path}", cookies={"sessionid": cookie}, timeout=30
    )


def test_a_streamed_csv_export_arrives_whole_through_daphne(daphne_server, desk):
    account = desk["account"]
    response = _get(
        daphne_server, f"/dashboard/accounts/{account.pk}/export/fills.csv", desk["cookie"]
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode())))
    expected = list(
        Fill.objects.filter(account=account)
        .order_by("executed_at", "pk")
        .values_list("pk", "price", "quantity")
    )
    assert len(expected) == 40
    assert [(int(r[0]), D(r[6]), D(r[7])) for r in table[1:]] == expected


def test_requests_at_the_same_time_are_each_answered_in_full(daphne_server, desk):
    account = desk["account"]
    paths = [f"/dashboard/accounts/{account.pk}/export/fills.csv", "/healthz"] * 12

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda p: _get(daphne_server, p, desk["cookie"]), paths))
    assert [r.status_code for r in responses] == [200] * len(paths)
    exports = [r.content for r in responses[::2]]
    assert len(set(exports)) == 1  # the same 41 lines each time, none cut short
    assert exports[0].count(b"\n") == 41
    assert all(r.json() == {"status": "ok"} for r in responses[1::2])
