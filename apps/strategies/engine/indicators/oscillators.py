"""Incremental RSI (Wilder) and MACD, seeded exactly as TA-Lib seeds them."""

from __future__ import annotations

from ..errors import ParameterError
from ._common import NAN, check_period, pow2_scale
from .moving_averages import EMA


class RSI:
    """Wilder's RSI: average gain and loss seeded with the simple mean of the first
    ``period`` changes, then smoothed as (prev * (n - 1) + change) / n."""

    __slots__ = ("_count", "_gain", "_loss", "_prev", "_scale", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = check_period(period)
        self._count = 0
        self._gain = 0.0
        self._loss = 0.0
        self._prev = 0.0
        self._scale = 1.0
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.close)

    def push(self, x: float) -> float:
        count = self._count
        if count == 0:
            self._scale = pow2_scale(x)
            self._prev = x * self._scale
            self._count = 1
            return self.value
        x = x * self._scale
        change = x - self._prev
        self._prev = x
        period = self.period
        if count <= period:
            if change < 0.0:
                self._loss -= change
            else:
                self._gain += change
            self._count = count + 1
            if count < period:
                return self.value
            self._loss /= period
            self._gain /= period
        else:
            loss = self._loss * (period - 1)
            gain = self._gain * (period - 1)
            if change < 0.0:
                loss -= change
            else:
                gain += change
            self._loss = loss / period
            self._gain = gain / period
        total = self._gain + self._loss
        self.value = 100.0 * (self._gain / total) if total != 0.0 else 0.0
        return self.value


class MACD:
    """MACD line, signal and histogram as TA-Lib computes them.

    TA-Lib seeds the fast EMA so that it starts on the same candle as the slow one: the
    fast EMA's seed is the SMA of the ``fast`` closes ending at candle ``slow - 1``.
    All three outputs appear together once the signal EMA is seeded; before that they
    are NaN.
    """

    __slots__ = ("_count", "_fast", "_signal", "_slow", "fast", "signal", "slow", "value")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self.fast = check_period(fast, "fast")
        self.slow = check_period(slow, "slow")
        self.signal = check_period(signal, "signal", minimum=1)
        if fast >= slow:
            raise ParameterError("fast", "must be below slow")
        self._fast = EMA(fast)
        self._slow = EMA(slow)
        # A one-period "EMA" would divide by 1 + 1; TA-Lib's signal of 1 is the line.
        self._signal = EMA(signal) if signal > 1 else None
        self._count = 0
        self.value = (NAN, NAN, NAN)

    def update(self, candle) -> tuple[float, float, float]:
        return self.push(candle.close)

    def push(self, x: float) -> tuple[float, float, float]:
        self._count += 1
        slow = self._slow.push(x)
        if self._count > self.slow - self.fast:
            fast = self._fast.push(x)
        else:
            return self.value
        if self._count < self.slow:
            return self.value
        line = fast - slow
        if self._signal is None:
            self.value = (line, line, 0.0)
            return self.value
        sig = self._signal.push(line)
        if sig == sig:  # not NaN: the signal EMA is seeded
            self.value = (line, sig, line - sig)
        return self.value
