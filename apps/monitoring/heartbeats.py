"""Worker heartbeats in Redis: the fleet view's evidence that workers are alive.

Each heartbeat is a small JSON document under one key per (worker, queue) with a
TTL, so a dead worker disappears by itself and no database write is needed.
"""

import json
import os
import time
from dataclasses import asdict, dataclass

from django.conf import settings

from apps.core.redis import get_redis

from .metrics import WORKER_HEARTBEATS

KEY_PREFIX = "spotdesk:heartbeat:worker:"


@dataclass(frozen=True, slots=True)
class WorkerHeartbeat:
    hostname: str
    queue: str
    pid: int
    seen_at: float  # unix seconds

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.seen_at)


def record_worker_heartbeat(*, hostname: str, queue: str) -> WorkerHeartbeat:
    beat = WorkerHeartbeat(hostname=hostname, queue=queue, pid=os.getpid(), seen_at=time.time())
    get_redis().set(
        f"{KEY_PREFIX}{hostname}:{queue}",
        json.dumps(asdict(beat)),
        ex=settings.WORKER_HEARTBEAT_TTL,
    )
    WORKER_HEARTBEATS.labels(queue=queue).inc()
    return beat


def live_worker_heartbeats() -> list[WorkerHeartbeat]:
    client = get_redis()
    keys = sorted(client.scan_iter(match=f"{KEY_PREFIX}*", count=500))
    if not keys:
        return []
    beats = [WorkerHeartbeat(**json.loads(raw)) for raw in client.mget(keys) if raw]
    return sorted(beats, key=lambda b: (b.hostname, b.queue))
