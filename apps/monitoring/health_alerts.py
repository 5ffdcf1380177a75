"""Alerts about the platform's own health that are judged from samples:

- `exchange_latency_high` (warning): EXCHANGE_SLOW_SAMPLES connectivity samples in a
  row slower than EXCHANGE_SLOW_MS (apps/exchange/health.sample_connectivity calls
  `track_exchange_latency`); once per slow episode, which a fast sample ends.
- `process_memory_high` (warning): a worker's resident memory above
  PROCESS_MEMORY_ALERT_BYTES, checked with every heartbeat; once per process.
"""

from __future__ import annotations

import os
import resource
import sys

from apps.core.logging import get_logger

from . import conf
from .alerts import raise_alert

logger = get_logger(__name__)
SLOW_PREFIX = "spotdesk:exchange:slow-samples:"
SLOW_ALERTED_PREFIX = "spotdesk:alerted:exchange-slow:"
MEMORY_ALERTED_PREFIX = "spotdesk:alerted:memory:"


def is_slow(sample: dict, limit_ms: float) -> bool:
    """A sample counts as slow when its ping took longer than the limit. A failed
    sample (no ping) is an outage, reported elsewhere, and breaks no streak."""
    ping = sample.get("ping_ms")
    return ping is not None and float(ping) > limit_ms


def track_exchange_latency(sample: dict, redis_client) -> bool:
    """Count slow samples in a row per environment; True when this one raised the alert."""
    try:
        environment = sample.get("environment", "")
        streak_key = f"{SLOW_PREFIX}{environment}"
        alerted_key = f"{SLOW_ALERTED_PREFIX}{environment}"
        if "ping_ms" not in sample:
            return False
        if not is_slow(sample, conf.exchange_slow_ms()):
            redis_client.delete(streak_key, alerted_key)
            return False
        streak = redis_client.incr(streak_key)
        redis_client.expire(streak_key, 3600)
        needed = conf.exchange_slow_samples()
        if streak < needed or not redis_client.set(alerted_key, "1", nx=True, ex=86400):
            return False
        raise_alert(
            "warning",
            "exchange_latency_high",
            f"The {environment} exchange answered slower than {conf.exchange_slow_ms():.0f} ms "
            f"{streak} times in a row (last ping {sample['ping_ms']} ms).",
            environment=environment,
            ping_ms=sample["ping_ms"],
            samples=streak,
        )
        return True
    except Exception:
        logger.exception("could not track exchange latency")
        return False


def resident_memory_bytes() -> int:
    """This process's resident set size (the peak RSS where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def check_process_memory(*, hostname: str, redis_client, rss: int | None = None) -> bool:
    """Alert once per process whose memory is above the threshold; True if raised."""
    limit = conf.process_memory_alert_bytes()
    if limit <= 0:
        return False
    rss = resident_memory_bytes() if rss is None else rss
    marker = f"{MEMORY_ALERTED_PREFIX}{hostname}:{os.getpid()}"
    if rss <= limit:
        return False
    if not redis_client.set(marker, "1", nx=True, ex=6 * 3600):
        return False
    raise_alert(
        "warning",
        "process_memory_high",
        f"Worker {hostname} (pid {os.getpid()}) uses {rss / 2**20:.0f} MiB, above the "
        f"{limit / 2**20:.0f} MiB threshold.",
        hostname=hostname,
        pid=os.getpid(),
        rss_bytes=rss,
        limit_bytes=limit,
    )
    return True
