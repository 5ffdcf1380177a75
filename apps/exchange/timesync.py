"""Server time offset from several /api/v3/time samples, shared through Redis.

Each sample halves its round trip: the server read its clock about half-way through,
so offset = serverTime - (sent + rtt / 2). The median of the samples ignores the one
a scheduler hiccup or a slow packet distorted. All processes share the latest offset
per environment through Redis; any process refreshes it when it is older than the
configured age, and at once after a -1021 answer.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from apps.monitoring.metrics import EXCHANGE_TIME_OFFSET_MS, EXCHANGE_TIME_SYNC_RTT_MS

from . import conf


@dataclass(frozen=True)
class TimeOffset:
    offset_ms: int
    rtt_ms: int
    measured_at: float  # local epoch seconds

    def age(self) -> float:
        return time.time() - self.measured_at


def measure_offset(
    fetch_server_ms: Callable[[], int], samples: int, *, clock=time.time_ns
) -> TimeOffset:
    """The RTT-compensated median offset of `samples` server-time readings."""
    offsets, rtts = [], []
    for _ in range(max(1, samples)):
        sent = clock()
        server_ms = fetch_server_ms()
        received = clock()
        rtt_ns = received - sent
        midpoint_ms = (sent + rtt_ns / 2) / 1_000_000
        offsets.append(server_ms - midpoint_ms)
        rtts.append(rtt_ns / 1_000_000)
    return TimeOffset(round(statistics.median(offsets)), round(min(rtts)), time.time())


class TimeSync:
    """The shared offset of one environment (Redis key `exchange:time-offset:<env>`)."""

    def __init__(self, redis_client, environment: str):
        self.redis = redis_client
        self.environment = environment
        self.key = f"exchange:time-offset:{environment}"
        self._local: TimeOffset | None = None
        self._read_at = float("-inf")

    def current(self) -> TimeOffset | None:
        # Re-read the shared value at most every few seconds (the limiter asks per request).
        if time.monotonic() - self._read_at < 5:
            return self._local
        raw = self.redis.get(self.key)
        self._read_at = time.monotonic()
        if raw is None:
            self._local = None
            return None
        data = json.loads(raw)
        self._local = TimeOffset(data["offset_ms"], data["rtt_ms"], data["measured_at"])
        return self._local

    def offset_ms(self, fetch_server_ms: Callable[[], int] | None = None) -> int:
        """The offset, refreshed first when missing or stale (if it can be fetched)."""
        known = self.current()
        if fetch_server_ms is not None and (
            known is None or known.age() > conf.time_sync_max_age_seconds()
        ):
            known = self.refresh(fetch_server_ms)
        return known.offset_ms if known is not None else 0

    def refresh(self, fetch_server_ms: Callable[[], int]) -> TimeOffset:
        measured = measure_offset(fetch_server_ms, conf.time_sync_samples())
        self.redis.set(
            self.key,
            json.dumps(
                {
                    "offset_ms": measured.offset_ms,
                    "rtt_ms": measured.rtt_ms,
                    "measured_at": measured.measured_at,
                }
            ),
        )
        self._local = measured
        self._read_at = time.monotonic()
        EXCHANGE_TIME_OFFSET_MS.labels(environment=self.environment).set(measured.offset_ms)
        EXCHANGE_TIME_SYNC_RTT_MS.labels(environment=self.environment).set(measured.rtt_ms)
        return measured


def status_snapshot(redis_client) -> dict[str, dict]:
    """Every environment's offset for the /status page: {env: {offset_ms, rtt_ms, age_s}}."""
    result = {}
    for key in redis_client.scan_iter("exchange:time-offset:*"):
        data = json.loads(redis_client.get(key) or "{}")
        if data:
            result[key.rsplit(":", 1)[1]] = {
                "offset_ms": data["offset_ms"],
                "rtt_ms": data["rtt_ms"],
                "age_s": round(time.time() - data["measured_at"], 1),
            }
    return result
