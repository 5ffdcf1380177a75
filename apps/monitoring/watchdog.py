"""Alerts the fleet raises about itself: workers that stopped sending heartbeats.

Run by beat every minute. One alert per stale episode: a Redis marker remembers that
the worker was reported, and is cleared when the worker is live again.
"""

from apps.core.redis import get_redis

from . import conf
from .alerts import raise_alert
from .heartbeats import worker_heartbeats_with_stale

ALERTED_PREFIX = "spotdesk:alerted:stale-worker:"


def alert_stale_workers() -> int:
    client = get_redis()
    raised = 0
    for worker in worker_heartbeats_with_stale():
        marker = f"{ALERTED_PREFIX}{worker.hostname}:{worker.queue}"
        if not worker.stale:
            client.delete(marker)
            continue
        if client.set(marker, "1", nx=True, ex=conf.stale_retention_seconds()):
            raise_alert(
                "error",
                "worker_stale",
                f"Worker {worker.hostname} stopped taking tasks from queue {worker.queue}: "
                f"last heartbeat {worker.age_seconds:.0f} s ago.",
                hostname=worker.hostname,
                queue=worker.queue,
                age_seconds=round(worker.age_seconds),
            )
            raised += 1
    return raised
