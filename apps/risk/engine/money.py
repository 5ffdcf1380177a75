"""Explicit conversions into Decimal for the risk engine's boundary."""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Context, Decimal

from apps.strategies.engine.errors import ParameterError

ZERO = Decimal(0)
ONE = Decimal(1)


def to_decimal(value: object, field: str) -> Decimal:
    """Accept Decimal, int or a numeric string; refuse floats so that binary rounding
    never slips into money silently (convert floats with ``float_to_decimal``)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool | float):
        raise ParameterError(field, "must be a Decimal, an integer or a numeric string")
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except ArithmeticError:
            raise ParameterError(field, "must be a number") from None
    else:
        raise ParameterError(field, "must be a Decimal, an integer or a numeric string")
    if not result.is_finite():
        raise ParameterError(field, "must be a finite number")
    return result


def float_to_decimal(value: float) -> Decimal | None:
    """A float statistic (correlation, ATR) as Decimal via its shortest repr;
    None when it is NaN or infinite."""
    if value is None or not math.isfinite(value):
        return None
    return Decimal(repr(float(value)))


def floor_to_step(quantity: Decimal, step: Decimal | None) -> Decimal:
    """Round a quantity down to a multiple of ``step`` (never up: caps must hold)."""
    if step is None or step <= 0:
        return quantity
    return (quantity // step) * step


# Caps divide a budget by a unit price; rounding that quotient up could overshoot the
# cap by a few units in the 28th digit, so every such division rounds towards zero.
_FLOOR = Context(prec=28, rounding=ROUND_FLOOR)


def div_floor(numerator: Decimal, denominator: Decimal) -> Decimal:
    return _FLOOR.divide(numerator, denominator)


def floor_significant(quantity: Decimal, digits: int = 12) -> Decimal:
    """Round down to ``digits`` significant digits. Keeps quantities short enough that
    quantity x price is exact in Decimal's 28 digits, so a cap that held for the
    quantity also holds for the notional and the risk computed from it."""
    if quantity <= 0:
        return ZERO
    step = Decimal(1).scaleb(quantity.adjusted() - digits + 1)
    return (quantity // step) * step


def mul_floor(a: Decimal, b: Decimal) -> Decimal:
    return _FLOOR.multiply(a, b)
