"""Decimal helpers: money and quantities are Decimal end to end.

Floats are refused at the boundary (they cannot represent 0.1 exactly); exchange wire
values are strings, and everything that rounds says in which direction.
"""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation

from .errors import ValidationError

# Binance publishes up to 8 decimal places; 18 leaves room for derived values
# (averages, fees on tiny fills) without rounding them away.
MONEY_MAX_DIGITS = 36
MONEY_DECIMAL_PLACES = 18
ZERO = Decimal(0)


def to_decimal(value, *, field: str = "value") -> Decimal:
    """Convert an exact representation (str, int, Decimal) to a finite Decimal.

    Floats are rejected: a float that reached money code is a bug to fix upstream.
    """
    if isinstance(value, (bool, float)):
        raise ValidationError(field, "must be a decimal string, integer or Decimal, not a float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(field, "must be a decimal number") from None
    else:
        raise ValidationError(field, "must be a decimal string, integer or Decimal")
    if not result.is_finite():
        raise ValidationError(field, "must be a finite number")
    return result


def quantize_step(value: Decimal, step: Decimal, *, rounding: str = ROUND_DOWN) -> Decimal:
    """Round `value` to a multiple of `step` (a LOT_SIZE step or PRICE_FILTER tick).

    Rounds down by default: selling or buying slightly less never exceeds a balance.
    """
    if step <= 0:
        return value
    units = (value / step).to_integral_value(rounding=rounding)
    return units * step


def round_up_step(value: Decimal, step: Decimal) -> Decimal:
    return quantize_step(value, step, rounding=ROUND_UP)


def round_half_even(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def to_wire(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros, as Binance expects."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
