"""Incremental rolling correlation of two series' simple returns."""

from __future__ import annotations

import math

from ._common import NAN, check_period


class ReturnCorrelation:
    """Pearson correlation of the last ``period`` simple returns of two series.

    Running sums with an exact recount every ``period`` values (O(1) amortised), so
    rounding drift never accumulates. NaN while warming up and where either window of
    returns is constant.
    """

    __slots__ = (
        "_count",
        "_idx",
        "_last_a",
        "_last_b",
        "_prev_a",
        "_prev_b",
        "_ring_a",
        "_ring_b",
        "_run_a",
        "_run_b",
        "_sa",
        "_saa",
        "_sab",
        "_sb",
        "_sbb",
        "_since",
        "period",
        "value",
    )

    def __init__(self, period: int = 30) -> None:
        self.period = check_period(period)
        self._ring_a = [0.0] * period
        self._ring_b = [0.0] * period
        self._idx = 0
        self._count = 0  # returns seen
        self._prev_a = self._prev_b = NAN
        self._sa = self._sb = self._saa = self._sbb = self._sab = 0.0
        self._since = 0
        self._last_a = self._last_b = NAN
        self._run_a = self._run_b = 0
        self.value = NAN

    def update(self, candle_a, candle_b) -> float:
        return self.push(candle_a.close, candle_b.close)

    def push(self, close_a: float, close_b: float) -> float:
        prev_a, prev_b = self._prev_a, self._prev_b
        self._prev_a, self._prev_b = close_a, close_b
        if prev_a != prev_a:  # first pair of closes: no return yet
            return self.value
        a = close_a / prev_a - 1.0
        b = close_b / prev_b - 1.0
        period = self.period
        idx = self._idx
        if self._count >= period:
            oa, ob = self._ring_a[idx], self._ring_b[idx]
            self._sa -= oa
            self._sb -= ob
            self._saa -= oa * oa
            self._sbb -= ob * ob
            self._sab -= oa * ob
        else:
            self._count += 1
        self._ring_a[idx] = a
        self._ring_b[idx] = b
        self._idx = (idx + 1) % period
        self._sa += a
        self._sb += b
        self._saa += a * a
        self._sbb += b * b
        self._sab += a * b
        self._run_a = self._run_a + 1 if a == self._last_a else 1
        self._run_b = self._run_b + 1 if b == self._last_b else 1
        self._last_a, self._last_b = a, b
        if self._count < period:
            return self.value
        self._since += 1
        if self._since >= period:
            self._recount()
        if self._run_a >= period or self._run_b >= period:
            self.value = NAN
            return self.value
        n = period
        ma, mb = self._sa / n, self._sb / n
        var_a = self._saa / n - ma * ma
        var_b = self._sbb / n - mb * mb
        cov = self._sab / n - ma * mb
        if var_a <= 0.0 or var_b <= 0.0:
            self.value = NAN
        else:
            corr = cov / math.sqrt(var_a * var_b)
            self.value = 1.0 if corr > 1.0 else (-1.0 if corr < -1.0 else corr)
        return self.value

    def _recount(self) -> None:
        ra, rb = self._ring_a, self._ring_b
        self._sa = math.fsum(ra)
        self._sb = math.fsum(rb)
        self._saa = math.fsum(x * x for x in ra)
        self._sbb = math.fsum(x * x for x in rb)
        self._sab = math.fsum(x * y for x, y in zip(ra, rb, strict=True))
        self._since = 0
