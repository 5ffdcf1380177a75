"""Incremental ADX (Wilder, as TA-Lib computes it) and Donchian channel."""

from __future__ import annotations

from collections import deque

from ._common import NAN, check_period, pow2_scale


class ADX:
    """Average directional index.

    TA-Lib's seeding, reproduced step for step: +DM, -DM and TR are summed over the
    first ``period - 1`` moves, then Wilder-smoothed; the first ADX is the mean DX of
    the next ``period`` moves, so the first value lands on candle ``2 * period - 1``.
    Inputs are scaled by a power of two fixed by the first high (see ``pow2_scale``).
    """

    __slots__ = (
        "_count",
        "_minus_dm",
        "_plus_dm",
        "_prev_close",
        "_prev_high",
        "_prev_low",
        "_scale",
        "_sum_dx",
        "_tr",
        "period",
        "value",
    )

    def __init__(self, period: int = 14) -> None:
        self.period = check_period(period)
        self._count = 0
        self._scale = 1.0
        self._prev_high = self._prev_low = self._prev_close = 0.0
        self._plus_dm = self._minus_dm = self._tr = 0.0
        self._sum_dx = 0.0
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.high, candle.low, candle.close)

    def push(self, high: float, low: float, close: float) -> float:
        count = self._count
        self._count = count + 1
        if count == 0:
            scale = self._scale = pow2_scale(high)
            self._prev_high, self._prev_low = high * scale, low * scale
            self._prev_close = close * scale
            return self.value
        scale = self._scale
        high *= scale
        low *= scale
        up = high - self._prev_high
        down = self._prev_low - low
        prev_close = self._prev_close
        self._prev_high, self._prev_low, self._prev_close = high, low, close * scale
        tr = high - low
        gap = abs(high - prev_close)
        if gap > tr:
            tr = gap
        gap = abs(low - prev_close)
        if gap > tr:
            tr = gap
        period = self.period
        if count < period:  # plain sums over the first period - 1 moves
            if down > 0 and up < down:
                self._minus_dm += down
            elif up > 0 and up > down:
                self._plus_dm += up
            self._tr += tr
            return self.value
        self._minus_dm -= self._minus_dm / period
        self._plus_dm -= self._plus_dm / period
        if down > 0 and up < down:
            self._minus_dm += down
        elif up > 0 and up > down:
            self._plus_dm += up
        self._tr = self._tr - self._tr / period + tr
        dx = NAN
        if self._tr != 0.0:
            minus_di = 100.0 * (self._minus_dm / self._tr)
            plus_di = 100.0 * (self._plus_dm / self._tr)
            di_sum = minus_di + plus_di
            if di_sum != 0.0:
                dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
        if count < 2 * period - 1:
            if dx == dx:
                self._sum_dx += dx
            return self.value
        if count == 2 * period - 1:
            if dx == dx:
                self._sum_dx += dx
            self.value = self._sum_dx / period
        elif dx == dx:
            self.value = (self.value * (period - 1) + dx) / period
        return self.value


class Donchian:
    """Highest high and lowest low of the last ``period`` candles (current included),
    kept with monotonic deques: amortised O(1). ``push`` returns (upper, middle, lower).
    """

    __slots__ = ("_count", "_highs", "_lows", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self.period = check_period(period)
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()
        self._count = 0
        self.value = (NAN, NAN, NAN)

    def update(self, candle) -> tuple[float, float, float]:
        return self.push(candle.high, candle.low)

    def push(self, high: float, low: float) -> tuple[float, float, float]:
        i = self._count
        self._count = i + 1
        highs, lows = self._highs, self._lows
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((i, high))
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((i, low))
        oldest = i - self.period + 1
        if highs[0][0] < oldest:
            highs.popleft()
        if lows[0][0] < oldest:
            lows.popleft()
        if oldest >= 0:
            upper, lower = highs[0][1], lows[0][1]
            self.value = (upper, (upper + lower) / 2.0, lower)
        return self.value
