"""Candles, tape points and kline intervals (bucket boundaries in UTC milliseconds)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from apps.paper_exchange.numbers import ZERO, fmt

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
# 1970-01-05 was the first Monday after the epoch: weekly klines open on Mondays.
_FIRST_MONDAY = 4 * DAY

FIXED_INTERVALS = {
    "1s": SECOND,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": WEEK,
}
INTERVALS = (*FIXED_INTERVALS, "1M")


@dataclass(slots=True)
class Bar:
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    taker_base: Decimal
    taker_quote: Decimal

    @classmethod
    def flat(cls, open_time: int, price: Decimal) -> Bar:
        """A period without trades: zero volume, every price at the previous close."""
        return cls(open_time, price, price, price, price, ZERO, ZERO, 0, ZERO, ZERO)

    def merge(self, other: Bar) -> None:
        """Extend this bar by a later one (in place)."""
        if self.volume == 0 and self.trades == 0:
            self.open = other.open
            self.high = other.high
            self.low = other.low
        else:
            self.high = max(self.high, other.high)
            self.low = min(self.low, other.low)
        if other.volume > 0 or other.trades > 0 or self.volume == 0:
            self.close = other.close
        self.volume += other.volume
        self.quote_volume += other.quote_volume
        self.trades += other.trades
        self.taker_base += other.taker_base
        self.taker_quote += other.taker_quote

    def row(self, close_time: int) -> list:
        """The 12-field kline row of the REST API."""
        return [
            self.open_time,
            fmt(self.open),
            fmt(self.high),
            fmt(self.low),
            fmt(self.close),
            fmt(self.volume),
            close_time,
            fmt(self.quote_volume),
            self.trades,
            fmt(self.taker_base),
            fmt(self.taker_quote),
            "0",
        ]


@dataclass(slots=True)
class TapePoint:
    """One market trade of the replayed or generated tape."""

    time: int
    price: Decimal
    qty: Decimal
    trade_id: int  # the aggregate trade id
    buyer_is_maker: bool
    # Individual trade ids it aggregates (replayed aggTrades); generated ones are single.
    first_id: int = -1
    last_id: int = -1

    @property
    def first(self) -> int:
        return self.first_id if self.first_id >= 0 else self.trade_id

    @property
    def last(self) -> int:
        return self.last_id if self.last_id >= 0 else self.trade_id

    @property
    def trade_count(self) -> int:
        return self.last - self.first + 1


def bucket_open(interval: str, t: int) -> int:
    if interval == "1M":
        moment = datetime.fromtimestamp(t / 1000, tz=UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp() * 1000)
    size = FIXED_INTERVALS[interval]
    if interval == "1w":
        return t - (t - _FIRST_MONDAY) % size
    return t - t % size


def bucket_close(interval: str, open_time: int) -> int:
    """Exclusive end of the bucket that opens at ``open_time``."""
    if interval == "1M":
        moment = datetime.fromtimestamp(open_time / 1000, tz=UTC)
        days = calendar.monthrange(moment.year, moment.month)[1]
        return open_time + days * DAY
    return open_time + FIXED_INTERVALS[interval]


def bucket_before(interval: str, open_time: int) -> int:
    return bucket_open(interval, open_time - 1)
