"""Incremental ATR, rolling standard deviation, z-score and Bollinger Bands."""

from __future__ import annotations

import math

from ._common import NAN, check_period, check_positive


class ATR:
    """Wilder's average true range. The first candle has no true range; the first
    value is the plain mean of the next ``period`` true ranges."""

    __slots__ = ("_count", "_prev_close", "_sum", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = check_period(period, minimum=1)
        self._count = 0
        self._prev_close = 0.0
        self._sum = 0.0
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.high, candle.low, candle.close)

    def push(self, high: float, low: float, close: float) -> float:
        count = self._count
        prev = self._prev_close
        self._prev_close = close
        self._count = count + 1
        if count == 0:
            return self.value
        tr = high - low
        gap = abs(high - prev)
        if gap > tr:
            tr = gap
        gap = abs(low - prev)
        if gap > tr:
            tr = gap
        period = self.period
        if count < period:
            self._sum += tr
        elif count == period:
            self.value = (self._sum + tr) / period
        else:
            self.value = (self.value * (period - 1) + tr) / period
        return self.value


class RollingMoments:
    """Mean and population variance of the last ``period`` values in O(1).

    Sums are kept of deviations from a shift that is moved to the window mean every
    ``period`` values (an O(period) recount, so O(1) amortised). That keeps the
    variance accurate when it is tiny next to the price, where the textbook
    E[x^2] - E[x]^2 loses every digit. A window of identical values has variance
    exactly 0.
    """

    __slots__ = (
        "_count",
        "_idx",
        "_last",
        "_ring",
        "_run",
        "_s1",
        "_s2",
        "_shift",
        "_since",
        "deviation",
        "mean",
        "period",
        "variance",
    )

    def __init__(self, period: int) -> None:
        self.period = check_period(period)
        self._ring = [0.0] * period
        self._idx = 0
        self._count = 0
        self._shift = 0.0
        self._s1 = 0.0
        self._s2 = 0.0
        self._since = 0
        self._last = NAN
        self._run = 0
        self.mean = NAN
        self.variance = NAN
        self.deviation = NAN  # newest value minus the window mean, kept precise

    def push(self, x: float) -> None:
        period = self.period
        ring = self._ring
        idx = self._idx
        if self._count == 0:
            self._shift = x
        d = x - self._shift
        self._s1 += d
        self._s2 += d * d
        if self._count >= period:
            old = ring[idx] - self._shift
            self._s1 -= old
            self._s2 -= old * old
        else:
            self._count += 1
        ring[idx] = x
        self._idx = (idx + 1) % period
        self._run = self._run + 1 if x == self._last else 1
        self._last = x
        if self._count < period:
            return
        self._since += 1
        if self._since >= period:
            self._recentre()
        m1 = self._s1 / period
        self.mean = self._shift + m1
        # (x - shift) - m1 keeps the digits that x - mean would lose to rounding.
        self.deviation = (x - self._shift) - m1
        if self._run >= period:
            self.variance = 0.0
        else:
            var = self._s2 / period - m1 * m1
            self.variance = var if var > 0.0 else 0.0

    def _recentre(self) -> None:
        ring = self._ring
        shift = math.fsum(ring) / self.period
        s1 = 0.0
        s2 = 0.0
        for value in ring:
            d = value - shift
            s1 += d
            s2 += d * d
        self._shift, self._s1, self._s2, self._since = shift, s1, s2, 0


class StdDev:
    """Rolling population standard deviation (TA-Lib STDDEV with nbdev 1)."""

    __slots__ = ("_moments", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self._moments = RollingMoments(period)
        self.period = period
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.close)

    def push(self, x: float) -> float:
        moments = self._moments
        moments.push(x)
        if moments.variance == moments.variance:
            self.value = math.sqrt(moments.variance)
        return self.value


class ZScore:
    """(value - rolling mean) / rolling std over ``period`` values; 0 on a flat window."""

    __slots__ = ("_moments", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self._moments = RollingMoments(period)
        self.period = period
        self.value = NAN

    def update(self, candle) -> float:
        return self.push(candle.close)

    def push(self, x: float) -> float:
        moments = self._moments
        moments.push(x)
        var = moments.variance
        if var == var:
            self.value = moments.deviation / math.sqrt(var) if var > 0.0 else 0.0
        return self.value


class Bollinger:
    """Bollinger Bands: SMA middle, +/- ``deviations`` population std.
    ``push`` returns (upper, middle, lower)."""

    __slots__ = ("_moments", "deviations", "period", "value")

    def __init__(self, period: int = 20, deviations: float = 2.0) -> None:
        self._moments = RollingMoments(period)
        self.period = period
        self.deviations = check_positive(deviations, "deviations")
        self.value = (NAN, NAN, NAN)

    def update(self, candle) -> tuple[float, float, float]:
        return self.push(candle.close)

    def push(self, x: float) -> tuple[float, float, float]:
        moments = self._moments
        moments.push(x)
        var = moments.variance
        if var == var:
            width = math.sqrt(var) * self.deviations
            mid = moments.mean
            self.value = (mid + width, mid, mid - width)
        return self.value
