"""One symbol's market on the market clock: contiguous bars plus the tape inside them.

Bars are kept contiguous (one per ``bar_ms``, zero-volume bars where nothing traded) so
that the bar holding a moment is found by arithmetic. When the clock runs past the last
bar, an extender appends more (a loop of the data or a synthetic continuation).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from decimal import Decimal
from typing import Protocol

from apps.paper_exchange.marketdata.bars import Bar, TapePoint
from apps.paper_exchange.marketdata.intrabar import intrabar_points
from apps.paper_exchange.marketdata.synthetic import GbmGenerator
from apps.paper_exchange.numbers import EIGHT_PLACES, ZERO

# Ids of generated tape trades live far above those of the replayed files.
GENERATED_TRADE_ID_BASE = 1_000_000_000
_POINT_CACHE_SIZE = 20_000


class Extender(Protocol):
    def extend(self, series: Series, upto_index: int) -> None: ...


class Series:
    def __init__(
        self,
        symbol: str,
        bar_ms: int,
        bars: list[Bar],
        seed: str,
        extender: Extender,
        trades: list[TapePoint] | None = None,
        tick: Decimal = EIGHT_PLACES,
    ):
        if not bars:
            raise ValueError(f"{symbol}: no bars")
        self.symbol = symbol
        self.bar_ms = bar_ms
        self.bars = bars
        self.seed = seed
        self.tick = tick
        self.extender = extender
        self.origin = bars[0].open_time
        self.data_bars = len(bars)
        self.trades = trades or []
        self._trade_times = [trade.time for trade in self.trades]
        if self.trades:
            self._traded_first = self.index_of(self.trades[0].time)
            self._traded_last = self.index_of(self.trades[-1].time)
        else:
            self._traded_first, self._traded_last = 0, -1
        self._points: dict[int, list[TapePoint]] = {}

    # -- bars ----------------------------------------------------------------------

    def index_of(self, t: int) -> int:
        return (t - self.origin) // self.bar_ms

    def open_of(self, index: int) -> int:
        return self.origin + index * self.bar_ms

    def bar(self, index: int) -> Bar:
        if index >= len(self.bars):
            self.extender.extend(self, index)
        return self.bars[index]

    def partial_bar(self, index: int, now: int) -> Bar | None:
        """Bar ``index`` as seen at ``now``: whole once closed, built from its tape while open."""
        if index < 0:
            return None
        bar = self.bar(index)
        if now >= bar.open_time + self.bar_ms - 1:
            return bar
        points = [point for point in self.points(index) if point.time <= now]
        previous = self.bar(index - 1).close if index > 0 else bar.open
        return bar_from_points(bar.open_time, points, previous)

    def script(self, closes: list[Decimal], *, after: int, volumes: list[Decimal]) -> int:
        """Make the bars after the one holding market time `after` close at `closes`
        (each opening at the previous close, a small wick either side), replacing
        whatever path was coming; the extender carries on from the last one. Returns
        the index of the first scripted bar. Tests and demos steer the market so."""
        first = self.index_of(after) + 1
        previous = self.bar(first - 1).close
        del self.bars[first:]
        wick = Decimal("0.0005")
        for offset, (close, volume) in enumerate(zip(closes, volumes, strict=True)):
            close = close.quantize(self.tick)
            high = (max(previous, close) * (1 + wick)).quantize(self.tick)
            low = (min(previous, close) * (1 - wick)).quantize(self.tick)
            quote = (volume * (previous + close) / 2).quantize(EIGHT_PLACES)
            half, half_quote = volume / 2, quote / 2
            self.bars.append(
                Bar(self.open_of(first + offset), previous, high, low, close, volume, quote,
                    20, half, half_quote)
            )  # fmt: skip
            previous = close
        # Replayed trades after this point no longer match the bars: generate the tape.
        self._traded_last = min(self._traded_last, first - 1)
        for index in [i for i in self._points if i >= first]:
            del self._points[index]
        return first

    # -- tape ----------------------------------------------------------------------

    def points(self, index: int) -> list[TapePoint]:
        cached = self._points.get(index)
        if cached is not None:
            return cached
        bar = self.bar(index)
        if self._traded_first <= index <= self._traded_last:
            start = bisect.bisect_left(self._trade_times, bar.open_time)
            end = bisect.bisect_left(self._trade_times, bar.open_time + self.bar_ms)
            points = self.trades[start:end]
        else:
            points = intrabar_points(
                bar,
                self.bar_ms,
                seed=f"{self.seed}:{index}",
                first_trade_id=GENERATED_TRADE_ID_BASE + index * 1000,
                tick=self.tick,
            )
        if len(self._points) > _POINT_CACHE_SIZE:
            self._points.clear()
        self._points[index] = points
        return points

    def points_between(self, after: int, upto: int) -> Iterator[TapePoint]:
        """Tape trades with ``after < time <= upto``."""
        if upto <= after:
            return
        first = max(0, self.index_of(after + 1))
        last = self.index_of(upto)
        for index in range(first, last + 1):
            for point in self.points(index):
                if after < point.time <= upto:
                    yield point

    def last_point(self, now: int, max_bars_back: int = 10_000) -> TapePoint | None:
        """The latest tape trade at or before ``now`` (looking back a bounded number of bars)."""
        index = self.index_of(now)
        for back in range(max_bars_back):
            current = index - back
            if current < 0:
                return None
            points = [point for point in self.points(current) if point.time <= now]
            if points:
                return points[-1]
        return None

    def last_price(self, now: int) -> Decimal:
        """The last trade price at ``now``; quiet bars keep the previous close."""
        index = self.index_of(now)
        if index < 0:
            return self.bars[0].open
        point = self.last_point(now, max_bars_back=2)
        if point is not None:
            return point.price
        return self.bar(index - 1).close if index > 0 else self.bars[0].open

    def recent_points(self, now: int, limit: int) -> list[TapePoint]:
        """The ``limit`` latest tape trades at or before ``now``, oldest first."""
        collected: list[TapePoint] = []
        index = self.index_of(now)
        while index >= 0 and len(collected) < limit:
            points = [point for point in self.points(index) if point.time <= now]
            collected[:0] = points
            index -= 1
            if index < self.index_of(now) - 50_000:
                break
        return collected[-limit:]


def bar_from_points(open_time: int, points: list[TapePoint], previous_close) -> Bar:
    if not points:
        return Bar.flat(open_time, previous_close)
    first = points[0]
    bar = Bar(
        open_time, first.price, first.price, first.price, first.price, ZERO, ZERO, 0, ZERO, ZERO
    )
    volume = quote = taker = taker_quote = ZERO
    for point in points:
        bar.high = max(bar.high, point.price)
        bar.low = min(bar.low, point.price)
        volume += point.qty
        quote += point.qty * point.price
        if not point.buyer_is_maker:
            taker += point.qty
            taker_quote += point.qty * point.price
    bar.close = points[-1].price
    bar.volume = volume
    bar.quote_volume = quote
    bar.trades = sum(point.trade_count for point in points)
    bar.taker_base = taker
    bar.taker_quote = taker_quote
    return bar


class GbmExtender:
    """Continue with seeded geometric Brownian motion from the last close."""

    chunk = 1440

    def __init__(self, generator: GbmGenerator):
        self.generator = generator

    def extend(self, series: Series, upto_index: int) -> None:
        while len(series.bars) <= upto_index:
            last = series.bars[-1]
            series.bars.extend(
                self.generator.bars(
                    len(series.bars), self.chunk, last.open_time + series.bar_ms, last.close
                )
            )


class LoopExtender:
    """Play the data again from its start (prices jump back at the seam)."""

    def extend(self, series: Series, upto_index: int) -> None:
        length = series.data_bars
        while len(series.bars) <= upto_index:
            index = len(series.bars)
            source = series.bars[index % length]
            copy = Bar(
                series.open_of(index),
                source.open,
                source.high,
                source.low,
                source.close,
                source.volume,
                source.quote_volume,
                source.trades,
                source.taker_base,
                source.taker_quote,
            )
            series.bars.append(copy)
