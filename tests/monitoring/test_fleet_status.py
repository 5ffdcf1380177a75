"""/status grows: stale workers, beat, broker queues, recent alerts and accounts by
state, each scoped to what the viewer may see; /readyz stays about this process."""

import pytest

from apps.monitoring.alerts import raise_alert
from apps.monitoring.heartbeats import KEY_PREFIX, record_beat_heartbeat, record_worker_heartbeat
from apps.monitoring.tasks import worker_heartbeat
from tests.accounts.factories import make_account, make_org, make_user, member, otp_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    otp_login(client, make_user("root-ops", superuser=True))
    return client


def test_a_worker_that_stopped_is_shown_as_stale(superuser_client, redis_client):
    record_worker_heartbeat(hostname="worker-a@host", queue="execution")
    record_worker_heartbeat(hostname="worker-b@host", queue="default")
    redis_client.delete(f"{KEY_PREFIX}worker-b@host:default")  # its short TTL ran out
    data = superuser_client.get("/status?format=json").json()
    assert [w["hostname"] for w in data["workers"]] == ["worker-a@host"]
    assert [w["hostname"] for w in data["stale_workers"]] == ["worker-b@host"]
    assert data["healthy"] is True  # one live worker remains
    page = superuser_client.get("/status").content.decode()
    row = page[page.index("worker-b@host") :]
    assert "stale" in row[: row.index("</tr>")]


def test_only_stale_workers_means_degraded(superuser_client, redis_client):
    record_worker_heartbeat(hostname="worker-c@host", queue="execution")
    redis_client.delete(f"{KEY_PREFIX}worker-c@host:execution")
    data = superuser_client.get("/status?format=json").json()
    assert data["workers"] == []
    assert data["healthy"] is False
    assert "No worker has sent a heartbeat" in superuser_client.get("/status").content.decode()


def test_beat_liveness(superuser_client, redis_client):
    assert superuser_client.get("/status?format=json").json()["beat"]["alive"] is False
    record_beat_heartbeat(hostname="beat@host")
    beat = superuser_client.get("/status?format=json").json()["beat"]
    assert beat["alive"] is True
    assert beat["instances"][0]["hostname"] == "beat@host"
    redis_client.delete("spotdesk:heartbeat:beat:beat@host")
    beat = superuser_client.get("/status?format=json").json()["beat"]
    assert beat["alive"] is False
    assert beat["instances"][0]["stale"] is True


def test_broker_queue_lengths(superuser_client, redis_client):
    for _ in range(2):
        worker_heartbeat.apply_async(kwargs={"queue": "backtest"}, queue="backtest")
    data = superuser_client.get("/status?format=json").json()
    assert data["queues"] == {"execution": 0, "default": 0, "backtest": 2}
    page = superuser_client.get("/status").content.decode()
    assert 'id="queues"' in page


def test_alerts_and_accounts_are_scoped_to_the_viewer(client, redis_client):
    mine, theirs = make_org(), make_org()
    make_account(mine)
    make_account(mine)
    make_account(theirs)
    raise_alert("error", "drawdown_limit", "mine-alert", organization=mine)
    raise_alert("critical", "kill_switch", "their-alert", organization=theirs)
    raise_alert("warning", "worker_stale", "platform-alert")
    viewer = member(mine, "viewer")
    viewer.is_staff = True  # staff, but without cross-organization access
    viewer.save()
    otp_login(client, viewer)
    data = client.get("/status?format=json").json()
    assert [a["message"] for a in data["alerts"]["latest"]] == ["mine-alert"]
    assert data["alerts"]["by_severity"] == {"error": 1}
    assert data["accounts_by_status"] == {"paused": 2}
    page = client.get("/status").content.decode()
    assert "mine-alert" in page
    assert "their-alert" not in page
    assert "platform-alert" not in page
    assert "Paused" in page[page.index('id="accounts"') :]


def test_platform_staff_see_every_alert(superuser_client, redis_client):
    org = make_org()
    raise_alert("error", "drawdown_limit", "org-alert", organization=org)
    raise_alert("warning", "worker_stale", "platform-alert")
    data = superuser_client.get("/status?format=json").json()
    assert {a["message"] for a in data["alerts"]["latest"]} == {"org-alert", "platform-alert"}


def test_status_renders_when_redis_is_down(superuser_client, settings):
    from tests.support.processes import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    response = superuser_client.get("/status?format=json")
    assert response.status_code == 200
    errors = " ".join(response.json()["errors"])
    assert "broker queues unavailable" in errors
    assert "worker heartbeats unavailable" in errors


def test_a_stale_worker_raises_one_alert_per_episode(redis_client):
    from apps.monitoring.models import Alert
    from apps.monitoring.watchdog import alert_stale_workers

    record_worker_heartbeat(hostname="worker-z@host", queue="execution")
    assert alert_stale_workers() == 0
    redis_client.delete(f"{KEY_PREFIX}worker-z@host:execution")
    assert alert_stale_workers() == 1
    assert alert_stale_workers() == 0  # still the same episode
    alert = Alert.objects.get(event="worker_stale")
    assert alert.organization_id is None  # a platform alert
    assert alert.context["hostname"] == "worker-z@host"
    record_worker_heartbeat(hostname="worker-z@host", queue="execution")
    assert alert_stale_workers() == 0  # live again: the episode ends
    redis_client.delete(f"{KEY_PREFIX}worker-z@host:execution")
    assert alert_stale_workers() == 1
