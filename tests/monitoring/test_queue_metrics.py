"""Celery queue lengths are exported for the worker autoscalers."""

import re

import pytest
import redis

from apps.monitoring.collectors import CeleryQueueLengthCollector
from tests.support.processes import free_port

# A broker database of its own: the suite's real worker drains the shared test broker.
ISOLATED_BROKER = "redis://127.0.0.1:6379/8"


@pytest.fixture
def isolated_broker():
    client = redis.Redis.from_url(ISOLATED_BROKER)
    client.flushdb()
    yield client
    client.flushdb()


def test_queue_lengths_are_read_from_the_broker(isolated_broker):
    isolated_broker.rpush("backtest", "a", "b", "c")
    isolated_broker.rpush("execution", "x")
    (family,) = CeleryQueueLengthCollector(broker_url=ISOLATED_BROKER).collect()
    lengths = {sample.labels["queue"]: sample.value for sample in family.samples}
    assert lengths == {"execution": 1, "default": 0, "backtest": 3}


def test_metrics_endpoint_exports_every_queue(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    queues = re.findall(r'^spotdesk_celery_queue_length\{queue="(\w+)"\}', text, re.MULTILINE)
    assert sorted(queues) == ["backtest", "default", "execution"]


def test_an_unreachable_broker_exports_no_series_rather_than_zero():
    collector = CeleryQueueLengthCollector(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    assert list(collector.collect()) == []
