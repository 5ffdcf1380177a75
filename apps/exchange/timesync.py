"""Server time offset from several /api/v3/time samples, shared through Redis.

Each sample halves its round trip: the server read its clock about half-way through,
so offset = serverTime - (sent + rtt / 2). The median of the samples ignores the one
a scheduler hiccup or a slow packet distorted. All processes share the latest offset
per environment through Redis; any process refreshes it when it is older than the
configured age, and at once after a -1021 answer.

A stale offset that cannot be refreshed (the exchange's time endpoint down or slow) is
used as it is: clocks drift by milliseconds a day, well within recvWindow, and a
-1021 answer would say otherwise. Only a missing offset fails the request. In one
process, one thread measures at a time and the others use what it measured: after a
cold start, the cycle threads' first signed requests would otherwise each take five
samples at once.
"""

from __future__ import annotations

import json
import logging
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from apps.core.errors import ExchangeError
from apps.monitoring.metrics import EXCHANGE_TIME_OFFSET_MS, EXCHANGE_TIME_SYNC_RTT_MS

from . import conf

logger = logging.getLogger(__name__)
_REFRESHING: dict[str, threading.Lock] = {}  # one per Redis key, shared by the threads
_REFRESHING_GUARD = threading.Lock()
_FAILED_AT: dict[str, float] = {}  # monotonic time of each key's last failed refresh
RETRY_FAILED_REFRESH_SECONDS = 10.0  # a stale offset is kept this long before retrying


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

    def current(self, *, fresh: bool = False) -> TimeOffset | None:
        # Re-read the shared value at most every few seconds (the limiter asks per request).
        if not fresh and time.monotonic() - self._read_at < 5:
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
        if fetch_server_ms is not None and _stale(known):
            known = self._refresh_once(fetch_server_ms)
        return known.offset_ms if known is not None else 0

    def _refresh_once(self, fetch_server_ms: Callable[[], int]) -> TimeOffset:
        with _lock_for(self.key):
            known = self.current(fresh=True)  # another thread or process may have measured
            if not _stale(known):
                return known
            failed_at = _FAILED_AT.get(self.key, float("-inf"))
            if known is not None and time.monotonic() - failed_at < RETRY_FAILED_REFRESH_SECONDS:
                return known  # not every request pays for an endpoint that just failed
            try:
                return self.refresh(fetch_server_ms)
            except ExchangeError as error:
                _FAILED_AT[self.key] = time.monotonic()
                if known is None:
                    raise
                logger.warning(
                    "exchange: time offset refresh failed (%s); using the one measured %.0f s ago",
                    type(error).__name__,
                    known.age(),
                )
                return known

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


def _stale(known: TimeOffset | None) -> bool:
    return known is None or known.age() > conf.time_sync_max_age_seconds()


def _lock_for(key: str) -> threading.Lock:
    with _REFRESHING_GUARD:
        return _REFRESHING.setdefault(key, threading.Lock())


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
