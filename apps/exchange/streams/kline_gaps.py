"""No closed candle is ever missed: track the last closed kline per (symbol, interval)
and backfill anything a dropped or stalled stream skipped from REST.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INTERVAL_MS = {
    "1s": 1000, "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000,
    "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000,
    "6h": 21_600_000, "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000,
    "3d": 259_200_000, "1w": 604_800_000,
}  # fmt: skip
REST_KLINES_LIMIT = 1000


@dataclass
class ClosedKlineTracker:
    """Remembers the open time of the last closed kline seen per (symbol, interval)."""

    last_open: dict[tuple[str, str], int] = field(default_factory=dict)

    def missing_before(self, symbol: str, interval: str, open_time: int) -> tuple[int, int] | None:
        """The [first, last] open times skipped before this closed kline, if any."""
        step = INTERVAL_MS[interval]
        previous = self.last_open.get((symbol, interval))
        if previous is None or open_time <= previous + step:
            return None
        return previous + step, open_time - step

    def record(self, symbol: str, interval: str, open_time: int) -> None:
        key = (symbol, interval)
        self.last_open[key] = max(open_time, self.last_open.get(key, open_time))

    def missing_until(self, symbol: str, interval: str, now_ms: int) -> tuple[int, int] | None:
        """After a reconnect: every kline that closed since the last one seen."""
        step = INTERVAL_MS[interval]
        previous = self.last_open.get((symbol, interval))
        if previous is None:
            return None
        last_closed_open = (now_ms // step) * step - step
        if last_closed_open <= previous:
            return None
        return previous + step, last_closed_open


def backfill_closed_klines(
    gateway, symbol: str, interval: str, first_open: int, last_open: int
) -> list[list]:
    """Closed klines with open time in [first_open, last_open] from REST, paged."""
    result: list[list] = []
    cursor = first_open
    step = INTERVAL_MS[interval]
    while cursor <= last_open:
        page = gateway.klines(
            symbol, interval, startTime=cursor, endTime=last_open, limit=REST_KLINES_LIMIT
        )
        if not page:
            break
        result.extend(page)
        cursor = int(page[-1][0]) + step
    return [kline for kline in result if first_open <= int(kline[0]) <= last_open]
