"""Higher intervals derived from a lower one (seed item 14): when a symbol is traded on
1m and 15m, the streams subscribe to 1m only and build each 15m candle from its fifteen
closed 1m candles, the way Binance aggregates them. Fewer subscriptions per symbol, and
a derived candle closes at the same moment as the exchange's.

Only intervals aligned to the epoch derive (3m up to 1d); 3d and 1w have their own
alignment on Binance and are always subscribed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .intervals import INTERVAL_MS
from .klines import KlineRow
from .times import ms_to_datetime

DERIVABLE = frozenset({"3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d"})


@dataclass(frozen=True)
class StreamPlan:
    """Which (symbol, interval) pairs to subscribe, and what each one derives."""

    subscribed: frozenset[tuple[str, str]]
    derived: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def derived_pairs(self) -> set[tuple[str, str]]:
        return {(symbol, d) for (symbol, _), ds in self.derived.items() for d in ds}


def plan_streams(pairs: Iterable[tuple[str, str]]) -> StreamPlan:
    """Subscribe each symbol's shortest interval; derive every other wanted interval
    that is a whole multiple of it and aligned to the epoch."""
    by_symbol: dict[str, set[str]] = {}
    for symbol, interval in pairs:
        by_symbol.setdefault(symbol, set()).add(interval)
    subscribed, derived = set(), {}
    for symbol, intervals in by_symbol.items():
        ordered = sorted(intervals, key=INTERVAL_MS.__getitem__)
        base = ordered[0]
        subscribed.add((symbol, base))
        children = []
        for interval in ordered[1:]:
            aligned = base in DERIVABLE | {"1m"} and interval in DERIVABLE
            if aligned and INTERVAL_MS[interval] % INTERVAL_MS[base] == 0:
                children.append(interval)
            else:
                subscribed.add((symbol, interval))
        if children:
            derived[(symbol, base)] = tuple(children)
    return StreamPlan(frozenset(subscribed), derived)


def bucket_start(open_ms: int, interval: str) -> int:
    step = INTERVAL_MS[interval]
    return open_ms - open_ms % step


def closes_bucket(open_ms: int, base: str, derived: str) -> bool:
    """Whether the base candle opening at `open_ms` is the last one of its derived bucket."""
    return (open_ms + INTERVAL_MS[base]) % INTERVAL_MS[derived] == 0


def parts_needed(base: str, derived: str) -> int:
    return INTERVAL_MS[derived] // INTERVAL_MS[base]


def aggregate(rows: Sequence[KlineRow], interval: str) -> KlineRow:
    """One `interval` candle from its consecutive lower-interval candles, oldest first."""
    if not rows:
        raise ValueError("nothing to aggregate")
    first = rows[0]
    start = bucket_start(int(first.open_time.timestamp() * 1000), interval)
    return KlineRow(
        open_time=ms_to_datetime(start),
        close_time=ms_to_datetime(start + INTERVAL_MS[interval] - 1),
        open=first.open,
        high=max(r.high for r in rows),
        low=min(r.low for r in rows),
        close=rows[-1].close,
        volume=sum((r.volume for r in rows), start=first.volume * 0),
        quote_volume=sum((r.quote_volume for r in rows), start=first.quote_volume * 0),
        trades=sum(r.trades for r in rows),
        taker_buy_base_volume=sum((r.taker_buy_base_volume for r in rows), start=first.volume * 0),
        taker_buy_quote_volume=sum(
            (r.taker_buy_quote_volume for r in rows), start=first.quote_volume * 0
        ),
    )
