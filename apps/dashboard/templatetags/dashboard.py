"""Template filters of the dashboard pages."""

from decimal import Decimal, InvalidOperation

from django import template

from apps.core.decimals import to_wire

register = template.Library()


@register.filter
def wire(value) -> str:
    """A Decimal as the API writes it (no exponent, no trailing zeros); blank for None."""
    if value is None or value == "":
        return ""
    try:
        return to_wire(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def signed(value) -> str:
    """`wire` with an explicit + for gains."""
    text = wire(value)
    return f"+{text}" if text and not text.startswith("-") and text != "0" else text


EIGHT_PLACES = Decimal("1e-8")  # Binance's finest price and quantity step


@register.filter
def price(value) -> str:
    """A computed price (an average, a ladder target) shown to the exchange's finest
    step; display only, the stored value keeps its precision."""
    if value is None or value == "":
        return ""
    try:
        return to_wire(Decimal(value).quantize(EIGHT_PLACES))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
