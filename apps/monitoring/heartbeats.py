"""Heartbeats in Redis: the fleet view's evidence that workers and beat are alive.

Each worker heartbeat is a small JSON document under one key per (worker, queue)
with a short TTL, so a dead worker stops counting as live by itself and no database
write is needed. A second, long-lived "last seen" copy keeps a stopped worker on
/status as stale for WORKER_STALE_RETENTION seconds, so its disappearance is visible.
Beat records its own heartbeat each time it publishes a periodic task.
"""

import json
import os
import time
from dataclasses import asdict, dataclass

from django.conf import settings

from apps.core.redis import get_redis

from . import conf
from .metrics import WORKER_HEARTBEATS

KEY_PREFIX = "spotdesk:heartbeat:worker:"
LAST_SEEN_PREFIX = "spotdesk:lastseen:worker:"
BEAT_KEY_PREFIX = "spotdesk:heartbeat:beat:"
BEAT_LAST_SEEN_PREFIX = "spotdesk:lastseen:beat:"


@dataclass(frozen=True, slots=True)
class WorkerHeartbeat:
    hostname: str
    queue: str
    pid: int
    seen_at: float  # unix seconds
    metrics_port: int | None = None
    stale: bool = False

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.seen_at)


@dataclass(frozen=True, slots=True)
class BeatHeartbeat:
    hostname: str
    pid: int
    seen_at: float
    metrics_port: int | None = None
    stale: bool = False

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.seen_at)


def _metrics_port() -> int | None:
    from .exporter import metrics_port

    return metrics_port()


def record_worker_heartbeat(*, hostname: str, queue: str) -> WorkerHeartbeat:
    beat = WorkerHeartbeat(
        hostname=hostname,
        queue=queue,
        pid=os.getpid(),
        seen_at=time.time(),
        metrics_port=_metrics_port(),
    )
    document = asdict(beat)
    document.pop("stale")
    payload = json.dumps(document)
    name = f"{hostname}:{queue}"
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.set(f"{KEY_PREFIX}{name}", payload, ex=settings.WORKER_HEARTBEAT_TTL)
        pipe.set(f"{LAST_SEEN_PREFIX}{name}", payload, ex=conf.stale_retention_seconds())
        pipe.execute()
    WORKER_HEARTBEATS.labels(queue=queue).inc()
    return beat


def _documents(client, prefix: str) -> dict[str, dict]:
    keys = sorted(client.scan_iter(match=f"{prefix}*", count=500))
    if not keys:
        return {}
    return {
        key.removeprefix(prefix): json.loads(raw)
        for key, raw in zip(keys, client.mget(keys), strict=True)
        if raw
    }


def live_worker_heartbeats() -> list[WorkerHeartbeat]:
    beats = [WorkerHeartbeat(**doc) for doc in _documents(get_redis(), KEY_PREFIX).values()]
    return sorted(beats, key=lambda b: (b.hostname, b.queue))


def worker_heartbeats_with_stale() -> list[WorkerHeartbeat]:
    """Live workers, then those seen within the stale retention but not any more."""
    client = get_redis()
    live = _documents(client, KEY_PREFIX)
    last_seen = _documents(client, LAST_SEEN_PREFIX)
    beats = [WorkerHeartbeat(**doc) for doc in live.values()]
    beats += [
        WorkerHeartbeat(**doc, stale=True) for key, doc in last_seen.items() if key not in live
    ]
    return sorted(beats, key=lambda b: (b.stale, b.hostname, b.queue))


def record_beat_heartbeat(*, hostname: str) -> None:
    document = {
        "hostname": hostname,
        "pid": os.getpid(),
        "seen_at": time.time(),
        "metrics_port": _metrics_port(),
    }
    payload = json.dumps(document)
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.set(f"{BEAT_KEY_PREFIX}{hostname}", payload, ex=conf.beat_heartbeat_ttl())
        pipe.set(f"{BEAT_LAST_SEEN_PREFIX}{hostname}", payload, ex=conf.stale_retention_seconds())
        pipe.execute()


def beat_heartbeats() -> list[BeatHeartbeat]:
    client = get_redis()
    live = _documents(client, BEAT_KEY_PREFIX)
    last_seen = _documents(client, BEAT_LAST_SEEN_PREFIX)
    beats = [BeatHeartbeat(**doc) for doc in live.values()]
    beats += [BeatHeartbeat(**doc, stale=True) for key, doc in last_seen.items() if key not in live]
    return sorted(beats, key=lambda b: (b.stale, b.hostname))
