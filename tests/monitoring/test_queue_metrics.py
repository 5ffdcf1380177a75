"""Celery queue lengths are exported for the worker autoscalers."""

import re

from apps.monitoring.collectors import CeleryQueueLengthCollector
from apps.monitoring.tasks import worker_heartbeat
from tests.support.processes import free_port


def _exported(client) -> dict[str, float]:
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    pattern = r'^spotdesk_celery_queue_length\{queue="(\w+)"\} ([0-9.e+]+)$'
    return {q: float(v) for q, v in re.findall(pattern, text, flags=re.MULTILINE)}


def test_queued_tasks_show_in_metrics(client, settings, redis_client):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    for _ in range(3):
        worker_heartbeat.apply_async(kwargs={"queue": "backtest"}, queue="backtest")
    lengths = _exported(client)
    assert lengths["backtest"] == 3
    assert lengths["execution"] == 0


def test_an_unreachable_broker_exports_no_series_rather_than_zero():
    collector = CeleryQueueLengthCollector(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    assert list(collector.collect()) == []
