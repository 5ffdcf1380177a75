"""Conversion rates at a fill's time: quote asset → valuation currency, and a
commission asset (BNB) → the symbol's quote asset. Prices come from the market cache
that the streams keep fresh; an asset pair nobody streams is asked of the exchange."""

from __future__ import annotations

from decimal import Decimal

from apps.core.redis import get_redis
from apps.marketdata.cache import MarketCache

ONE = Decimal(1)


def _cached(environment: str, symbol: str) -> Decimal | None:
    found = MarketCache(get_redis(), environment).price(symbol)
    return None if found is None else found[0]


def _ticker(gateway, symbol: str) -> Decimal | None:
    if gateway is None:
        return None
    from apps.exchange.errors import ExchangeError

    try:
        answer = gateway.request("GET", "/api/v3/ticker/price", {"symbol": symbol})
    except ExchangeError:
        return None
    return Decimal(str(answer["price"]))


def rate(environment: str, asset: str, target: str, *, gateway=None) -> Decimal | None:
    """Units of `target` per unit of `asset` (1 when they are the same), from the
    direct pair, or the inverse pair; None when neither is known."""
    if asset == target:
        return ONE
    for symbol, invert in ((f"{asset}{target}", False), (f"{target}{asset}", True)):
        price = _cached(environment, symbol) or _ticker(gateway, symbol)
        if price:
            return ONE / price if invert else price
    return None


def fill_rates(
    *, environment: str, base: str, quote: str, valuation: str, commission_asset: str,
    price: Decimal, gateway=None,
) -> tuple[Decimal, Decimal | None]:  # fmt: skip
    """(quote_rate, commission_rate) for one fill: valuation currency per quote unit,
    and quote per unit of a commission paid in a third asset (None otherwise, since a
    base or quote commission needs no rate)."""
    quote_rate = rate(environment, quote, valuation, gateway=gateway) or ONE
    commission_rate = None
    if commission_asset and commission_asset not in (base, quote):
        commission_rate = rate(environment, commission_asset, quote, gateway=gateway)
    return quote_rate, commission_rate
