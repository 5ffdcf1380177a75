"""Helpers shared by the batch and incremental indicator forms."""

from __future__ import annotations

import math

from ..errors import ParameterError

NAN = math.nan


def pow2_scale(first_value: float) -> float:
    """A power of two that brings ``first_value`` into [0.5, 1).

    Multiplying by a power of two is exact in binary floating point, so every sum,
    product, quotient and square root of the scaled series is the exact scaled image
    of the unscaled one. Only the near-zero tests inside TA-Lib (a fixed epsilon)
    see different numbers: scaling makes those tests relative to the series' size, so
    a coin priced at 0.00000500 BTC behaves like one priced at 50,000 USDT. Batch and
    incremental forms both scale by the first value, so they take the same branches.
    """
    if not math.isfinite(first_value) or first_value == 0.0:
        return 1.0
    _, exponent = math.frexp(abs(first_value))
    return math.ldexp(1.0, -exponent)


def check_period(value: object, field: str = "period", minimum: int = 2) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(field, "must be an integer")
    if value < minimum or value > 100_000:
        raise ParameterError(field, f"must be between {minimum} and 100000")
    return value


def check_positive(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(field, "must be a number")
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(field, "must be a finite number above 0")
    return float(value)
