"""With real processes: an alert reaches the loopback receiver through the Celery
worker, and a worker that is stopped turns stale on /status while /readyz stays 200."""

import time

import pytest

from apps.accounts.actors import Actor
from apps.monitoring.alerts import raise_alert
from apps.monitoring.heartbeats import live_worker_heartbeats
from apps.monitoring.models import DeliveryStatus, NotificationDelivery, NotificationRoute
from apps.monitoring.notifications.services import save_route
from apps.monitoring.tasks import worker_heartbeat
from tests.accounts.factories import make_org, make_user, otp_login
from tests.support.processes import VENV_BIN, ManagedProcess, child_env, database_url_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_raise_alert_fans_out_through_the_worker(
    celery_worker_process, receiver, notification_settings, wait_until
):
    org = make_org()
    route = save_route(
        actor=Actor.for_system(),
        route=NotificationRoute(),
        data={"organization": org, "name": "ops slack", "channel": "slack", "target": {}},
        secret=f"{receiver.url}/services/T1/B1/worker",
    )
    for _ in range(3):  # a small storm: one message, count 3
        raise_alert("critical", "exchange_ip_banned", "IP banned for 120s", organization=org)
    # The worker marks the delivery sent once the receiver has answered: wait for that,
    # not only for the request to arrive.
    sent = NotificationDelivery.objects.filter(route=route, status=DeliveryStatus.SENT)
    wait_until(sent.exists, timeout=60, message=celery_worker_process.output()[-3000:])
    delivery = NotificationDelivery.objects.get(route=route)
    assert delivery.count == 3
    (request,) = receiver.requests
    assert request.path == "/services/T1/B1/worker"
    assert "3 alerts of this kind" in request.json()["text"]


def _database_url() -> str:
    from django.db import connection

    return database_url_for(connection.settings_dict)


@pytest.fixture
def short_lived_worker():
    name = f"h7-stale-{int(time.time())}@localhost"
    worker = ManagedProcess(
        "celery-worker-stale",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "celery_worker",
            "worker",
            "-Q",
            "h7status",
            "--pool=solo",
            "-n",
            name,
            "--without-gossip",
            "--without-mingle",
        ],
        child_env(DATABASE_URL=_database_url(), WORKER_HEARTBEAT_TTL="2"),
    )
    worker.hostname = name
    yield worker
    worker.stop()


def test_a_stopped_worker_turns_stale_and_readyz_stays_up(
    client, short_lived_worker, redis_client, wait_until
):
    otp_login(client, make_user("ops-stale", superuser=True))

    def seen_live():
        worker_heartbeat.apply_async(kwargs={"queue": "h7status"}, queue="h7status")
        return any(b.hostname == short_lived_worker.hostname for b in live_worker_heartbeats())

    wait_until(seen_live, timeout=60, interval=1.0, message=short_lived_worker.output()[-3000:])
    live = client.get("/status?format=json").json()
    assert short_lived_worker.hostname in [w["hostname"] for w in live["workers"]]

    short_lived_worker.stop()

    def stale():
        data = client.get("/status?format=json").json()
        return short_lived_worker.hostname in [w["hostname"] for w in data["stale_workers"]]

    wait_until(stale, timeout=15, interval=0.5)
    page = client.get("/status").content.decode()
    row = page[page.index(short_lived_worker.hostname) :]
    assert "stale" in row[: row.index("</tr>")]
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def beat_process():
    beat = ManagedProcess(
        "celery-beat",
        [str(VENV_BIN / "celery"), "-A", "celery_worker", "beat", "--loglevel=INFO"],
        child_env(DATABASE_URL=_database_url(), WORKER_METRICS_PORT="0"),
    )
    yield beat
    beat.stop()


def test_beat_is_alive_on_status_while_it_publishes(client, beat_process, redis_client, wait_until):
    from apps.monitoring.heartbeats import beat_heartbeats

    otp_login(client, make_user("ops-beat", superuser=True))
    beats = wait_until(
        lambda: [b for b in beat_heartbeats() if not b.stale],
        timeout=60,
        interval=0.5,
        message=beat_process.output()[-3000:],
    )
    assert beats[0].pid == beat_process.popen.pid
    assert beats[0].metrics_port
    data = client.get("/status?format=json").json()
    assert data["beat"]["alive"] is True
    # Beat's own endpoint counts what it published.
    from tests.monitoring.scrape import scrape, total

    text = scrape(f"http://127.0.0.1:{beats[0].metrics_port}/metrics")
    assert total(text, "spotdesk_beat_tasks_published_total") >= 1


def test_a_second_beat_exits_while_one_holds_the_scheduler_lease(beat_process, wait_until):
    import subprocess

    from apps.monitoring.heartbeats import beat_heartbeats

    wait_until(
        lambda: [b for b in beat_heartbeats() if not b.stale],
        timeout=60,
        interval=0.5,
        message=beat_process.output()[-3000:],
    )
    second = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "celery_worker", "beat", "--loglevel=INFO"],
        env=child_env(DATABASE_URL=_database_url(), WORKER_METRICS_PORT="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = second.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        second.kill()
        output, _ = second.communicate()
    assert second.returncode == 3, output[-3000:]
    assert "another celery beat holds" in output
    assert beat_process.popen.poll() is None  # the first one keeps scheduling
