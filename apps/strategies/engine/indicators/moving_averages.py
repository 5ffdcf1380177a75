"""Incremental SMA, EMA and WMA: O(1) per value, seeded exactly as TA-Lib seeds them."""

from __future__ import annotations

from ._common import NAN, check_period


class SMA:
    """Simple moving average with TA-Lib's running total (add new, then drop oldest)."""

    __slots__ = ("_count", "_idx", "_ring", "_total", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self.period = check_period(period)
        self._ring = [0.0] * period
        self._idx = 0
        self._count = 0
        self._total = 0.0
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.close)

    def push(self, x: float) -> float:
        total = self._total + x
        ring = self._ring
        ring[self._idx] = x
        idx = self._idx = (self._idx + 1) % self.period
        self._count += 1
        if self._count >= self.period:
            self.value = total / self.period
            total -= ring[idx]  # the oldest value leaves before the next one arrives
        self._total = total
        return self.value


class EMA:
    """Exponential moving average, k = 2 / (period + 1), seeded with the SMA of the
    first ``period`` values (TA-Lib's default, not the first value)."""

    __slots__ = ("_count", "_k", "_sum", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self.period = check_period(period)
        self._k = 2.0 / (period + 1)
        self._count = 0
        self._sum = 0.0
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.close)

    def push(self, x: float) -> float:
        if self._count >= self.period:
            value = self.value
            self.value = (x - value) * self._k + value
            return self.value
        self._count += 1
        self._sum += x
        if self._count == self.period:
            self.value = self._sum / self.period
        return self.value


class WMA:
    """Linearly weighted moving average (newest weight ``period``), O(1) by keeping the
    plain sum of the window next to the weighted sum."""

    __slots__ = ("_count", "_divider", "_idx", "_ring", "_sub", "_weighted", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self.period = check_period(period)
        self._divider = period * (period + 1) / 2.0
        self._ring = [0.0] * period
        self._idx = 0
        self._count = 0
        self._sub = 0.0  # plain sum of the window
        self._weighted = 0.0  # weighted sum, already reduced for the next step
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.close)

    def push(self, x: float) -> float:
        period = self.period
        ring = self._ring
        if self._count < period - 1:
            self._count += 1
            self._sub += x
            self._weighted += x * self._count
            ring[self._idx] = x
            self._idx += 1
            return self.value
        # ring[_idx] holds the value leaving the window once it is full.
        leaving = ring[self._idx] if self._count >= period else 0.0
        self._count += 1
        ring[self._idx] = x
        self._idx = (self._idx + 1) % period
        self._sub += x - leaving
        self._weighted += x * period
        self.value = self._weighted / self._divider
        # Every weight drops by one for the next step: subtract the plain sum.
        self._weighted -= self._sub
        return self.value
