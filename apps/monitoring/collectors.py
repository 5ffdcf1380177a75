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


class CeleryQueueLengthCollector(Collector):
    def __init__(self, broker_url: str | None = None, timeout: float = 1.0):
        self._broker_url = broker_url
        self._timeout = timeout

    def _client(self) -> redis.Redis:
        url = self._broker_url or settings.CELERY_BROKER_URL
        return redis.Redis.from_url(
            url, socket_connect_timeout=self._timeout, socket_timeout=self._timeout
        )

    def collect(self):
        family = GaugeMetricFamily(
            QUEUE_LENGTH,
            "Messages waiting in each Celery queue (broker list length).",
            labels=["queue"],
        )
        try:
            with self._client().pipeline(transaction=False) as pipe:
                for queue in QUEUES:
                    pipe.llen(queue)
                lengths = pipe.execute()
        except redis.RedisError:
            # An unreachable broker shows as a missing series (alertable with absent()),
            # never as a zero that would scale workers down.
            return
        for queue, length in zip(QUEUES, lengths, strict=True):
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
