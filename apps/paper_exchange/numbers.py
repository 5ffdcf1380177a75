"""Decimal helpers: parsing wire strings, formatting them back, stepping to ticks."""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
EIGHT_PLACES = Decimal("0.00000001")
_DECIMAL_WIRE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")


def is_wire_decimal(text: str) -> bool:
    """True when ``text`` matches Binance's numeric parameter regex."""
    return bool(_DECIMAL_WIRE.fullmatch(text))  # "$" alone would accept "1\n"


def fmt(value: Decimal | int, places: int = 8) -> str:
    """Format like Binance: fixed point with ``places`` decimals, never exponent notation."""
    value = Decimal(value)
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):f}"


def places_of(step: Decimal) -> int:
    """Number of decimals a step or tick size allows ("0.01000000" -> 2)."""
    normalized = step.normalize()
    exponent = normalized.as_tuple().exponent
    return max(0, -int(exponent))


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def is_multiple(value: Decimal, step: Decimal, origin: Decimal = ZERO) -> bool:
    if step <= 0:
        return True
    return (value - origin) % step == 0


def money_up(value: Decimal) -> Decimal:
    """Round an amount the account pays up to 8 decimals (never under-charge)."""
    return value.quantize(EIGHT_PLACES, rounding=ROUND_UP)


def money_down(value: Decimal) -> Decimal:
    """Round an amount the account receives down to 8 decimals (never over-credit)."""
    return value.quantize(EIGHT_PLACES, rounding=ROUND_DOWN)


def to_decimal(value: float | int | str, step: Decimal) -> Decimal:
    """Float from a simulation to a Decimal on the given grid."""
    return floor_to(Decimal(repr(value)) if isinstance(value, float) else Decimal(value), step)
