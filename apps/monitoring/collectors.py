"""Metrics read at scrape time rather than counted as they happen.

Celery queue lengths live in the broker (a Redis list per queue); reading them when
Prometheus scrapes keeps them exact without a process that polls. The worker
autoscalers (deploy/k8s/autoscaling.yaml) scale on this series.
"""

import redis
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from celery_worker.schedule import QUEUES

QUEUE_LENGTH = "spotdesk_celery_queue_length"


def queue_lengths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting per Celery queue (raises redis.RedisError when unreachable)."""
    with client.pipeline(transaction=False) as pipe:
        for queue in QUEUES:
            pipe.llen(queue)
        lengths = pipe.execute()
    return dict(zip(QUEUES, lengths, strict=True))


def broker_client(timeout: float = 1.0, url: str | None = None) -> redis.Redis:
    return redis.Redis.from_url(
        url or settings.CELERY_BROKER_URL,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )


class CeleryQueueLengthCollector(Collector):
    def __init__(self, broker_url: str | None = None, timeout: float = 1.0):
        self._broker_url = broker_url
        self._timeout = timeout

    def _client(self) -> redis.Redis:
        return broker_client(self._timeout, self._broker_url)

    def collect(self):
        family = GaugeMetricFamily(
            QUEUE_LENGTH,
            "Messages waiting in each Celery queue (broker list length).",
            labels=["queue"],
        )
        try:
            lengths = queue_lengths(self._client())
        except redis.RedisError:
            # An unreachable broker shows as a missing series (alertable with absent()),
            # never as a zero that would scale workers down.
            return
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        yield family

    def describe(self):
        # Describing without collecting keeps registration free of broker I/O.
        return [
            GaugeMetricFamily(
                QUEUE_LENGTH, "Messages waiting in each Celery queue.", labels=["queue"]
            )
        ]


_registered = False


def register_collectors() -> None:
    global _registered  # register once per process
    if not _registered:
        REGISTRY.register(CeleryQueueLengthCollector())
        _registered = True
