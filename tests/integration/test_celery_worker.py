"""The heartbeat task through a real Celery worker, broker and Redis."""

import json

import pytest

from apps.monitoring.heartbeats import KEY_PREFIX, live_worker_heartbeats
from apps.monitoring.tasks import worker_heartbeat
from celery_worker.routing import queue_for_task

pytestmark = pytest.mark.integration


def test_routes_follow_the_task_module():
    assert queue_for_task("apps.trading.tasks.run_cycle") == "execution"
    assert queue_for_task("apps.backtest.tasks.run_backtest") == "backtest"
    assert queue_for_task("apps.monitoring.tasks.worker_heartbeat") == "default"
    assert queue_for_task("apps.trading.tasks.maintain_partitions") == "default"


def test_celery_policy_is_safe():
    from celery_worker import app

    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


@pytest.mark.django_db(transaction=True)
def test_worker_records_its_heartbeat(celery_worker_process, redis_client, wait_until):
    for queue in ("execution", "default"):
        worker_heartbeat.apply_async(kwargs={"queue": queue}, queue=queue)

    def both_queues_seen():
        beats = live_worker_heartbeats()
        return {b.queue for b in beats if b.hostname == celery_worker_process.hostname} >= {
            "execution",
            "default",
        }

    wait_until(both_queues_seen, timeout=60, message=celery_worker_process.output()[-3000:])
    raw = redis_client.get(f"{KEY_PREFIX}{celery_worker_process.hostname}:execution")
    beat = json.loads(raw)
    assert beat["pid"] == celery_worker_process.popen.pid
    assert redis_client.ttl(f"{KEY_PREFIX}{celery_worker_process.hostname}:execution") > 0
