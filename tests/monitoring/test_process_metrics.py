"""Every process exports its own metrics: daphne serves /metrics, a real Celery worker
its own endpoint (advertised in its heartbeat); counters move by exactly what ran."""

import time

import pytest
import requests

from apps.monitoring.heartbeats import live_worker_heartbeats
from apps.monitoring.tasks import fan_out_alert, worker_heartbeat
from tests.monitoring.scrape import sample, scrape

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
HEARTBEAT = "apps.monitoring.tasks.worker_heartbeat"


def test_web_process_counts_its_requests(daphne_server):
    url = f"{daphne_server.base_url}/metrics"
    before = scrape(url)
    for _ in range(3):
        assert requests.get(f"{daphne_server.base_url}/readyz", timeout=5).status_code == 200
    after = scrape(url)
    name = "spotdesk_readiness_check_seconds_count"
    assert sample(after, name, check="database") - sample(before, name, check="database") == 3
    assert sample(after, name, check="redis") - sample(before, name, check="redis") == 3
    django_name = "django_http_requests_total_by_view_transport_method_total"
    labels = {"view": "readyz", "transport": "http", "method": "GET"}
    assert sample(after, django_name, **labels) - sample(before, django_name, **labels) == 3


def _tasks_done(text: str) -> float:
    return sample(text, "spotdesk_celery_tasks_total", task=HEARTBEAT, outcome="success")


def _worker_metrics_url(worker, redis_client, wait_until) -> str:
    def advertised():
        worker_heartbeat.apply_async(kwargs={"queue": "default"}, queue="default")
        for beat in live_worker_heartbeats():
            if beat.hostname == worker.hostname and beat.metrics_port:
                return beat.metrics_port
        return None

    port = wait_until(advertised, timeout=60, interval=1.0, message=worker.output()[-3000:])
    return f"http://127.0.0.1:{port}/metrics"


def test_celery_worker_exports_task_counters(celery_worker_process, redis_client, wait_until):
    url = _worker_metrics_url(celery_worker_process, redis_client, wait_until)
    # Let the discovery heartbeats finish: the baseline is two equal scrapes in a row.
    wait_until(lambda: redis_client.llen("default") == 0, timeout=30)
    previous = {"text": None}

    def steady():
        text = scrape(url)
        same = previous["text"] is not None and _tasks_done(text) == _tasks_done(previous["text"])
        previous["text"] = text
        return text if same else None

    before = wait_until(steady, timeout=30, interval=0.5)

    for _ in range(3):
        worker_heartbeat.apply_async(kwargs={"queue": "default"}, queue="default")
    for _ in range(2):
        worker_heartbeat.apply_async(kwargs={"queue": "execution"}, queue="execution")
    fan_out_alert.apply_async(args=["not-an-id"])  # fails in the worker

    def moved():
        text = scrape(url)
        done = sample(text, "spotdesk_celery_tasks_total", task=HEARTBEAT, outcome="success")
        failed = sample(
            text,
            "spotdesk_celery_tasks_total",
            task="apps.monitoring.tasks.fan_out_alert",
            outcome="failure",
        )
        base = sample(before, "spotdesk_celery_tasks_total", task=HEARTBEAT, outcome="success")
        return text if done - base >= 5 and failed >= 1 else None

    after = wait_until(
        moved, timeout=60, interval=0.5, message=celery_worker_process.output()[-3000:]
    )

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("spotdesk_celery_tasks_total", task=HEARTBEAT, outcome="success") == 5
    assert delta("spotdesk_worker_heartbeats_total", queue="default") == 3
    assert delta("spotdesk_worker_heartbeats_total", queue="execution") == 2
    assert (
        delta(
            "spotdesk_celery_tasks_total",
            task="apps.monitoring.tasks.fan_out_alert",
            outcome="failure",
        )
        == 1
    )
    assert delta("spotdesk_celery_task_seconds_count", task=HEARTBEAT) == 5


def test_per_process_endpoint_needs_a_token_or_a_listed_address(settings):
    from apps.monitoring import exporter

    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "per-process-scrape-token"
    port = exporter.start_metrics_server(0, "127.0.0.1")
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert requests.get(url, timeout=5).status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert requests.get(url, headers=wrong, timeout=5).status_code == 403
        good = {"Authorization": "Bearer per-process-scrape-token"}
        response = requests.get(url, headers=good, timeout=5)
        assert response.status_code == 200
        assert "spotdesk_alerts_raised_total" in response.text
    finally:
        exporter.stop_metrics_server()


@pytest.fixture
def prefork_worker(tmp_path):
    from django.db import connection

    from tests.support.processes import VENV_BIN, ManagedProcess, child_env, database_url_for

    name = f"h7-prefork-{int(time.time())}@localhost"
    worker = ManagedProcess(
        "celery-worker-prefork",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "celery_worker",
            "worker",
            "-Q",
            "h7prefork",
            "--pool=prefork",
            "--concurrency=2",
            "-n",
            name,
            "--without-gossip",
            "--without-mingle",
        ],
        child_env(
            DATABASE_URL=database_url_for(connection.settings_dict),
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        ),
    )
    worker.hostname = name
    yield worker
    worker.stop()


def test_prefork_worker_sums_its_children_in_multiprocess_mode(
    prefork_worker, redis_client, wait_until
):
    def advertised():
        worker_heartbeat.apply_async(kwargs={"queue": "h7prefork"}, queue="h7prefork")
        for beat in live_worker_heartbeats():
            if beat.hostname == prefork_worker.hostname and beat.metrics_port:
                return beat
        return None

    beat = wait_until(advertised, timeout=60, interval=1.0, message=prefork_worker.output()[-3000:])
    assert beat.pid != prefork_worker.popen.pid  # a pool child ran it, not the parent
    url = f"http://127.0.0.1:{beat.metrics_port}/metrics"
    wait_until(lambda: redis_client.llen("h7prefork") == 0, timeout=30)
    previous = {"text": None}

    def steady():
        text = scrape(url)
        value = sample(text, "spotdesk_worker_heartbeats_total", queue="h7prefork")
        same = previous["text"] is not None and value == sample(
            previous["text"], "spotdesk_worker_heartbeats_total", queue="h7prefork"
        )
        previous["text"] = text
        return text if same else None

    before = wait_until(steady, timeout=30, interval=0.7)
    for _ in range(6):
        worker_heartbeat.apply_async(kwargs={"queue": "h7prefork"}, queue="h7prefork")

    def counted():
        text = scrape(url)
        name = "spotdesk_worker_heartbeats_total"
        moved = sample(text, name, queue="h7prefork") - sample(before, name, queue="h7prefork")
        return text if moved >= 6 else None

    after = wait_until(counted, timeout=60, interval=0.5, message=prefork_worker.output()[-3000:])
    name = "spotdesk_worker_heartbeats_total"
    assert sample(after, name, queue="h7prefork") - sample(before, name, queue="h7prefork") == 6
    assert "process_resident_memory_bytes" in after


def test_a_taken_port_is_logged_not_fatal():
    import socket

    from apps.monitoring import exporter

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert exporter.start_configured_metrics_server(port) is None
    assert exporter.metrics_port() is None
    assert exporter.start_configured_metrics_server(None) is None
