"""Symbol filters (filters.md): each failure is -1013 "Filter failure: NAME".

MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS need the account's open orders and are checked
by the engine; everything here depends only on the request and the market price.
"""

from __future__ import annotations

from decimal import Decimal

from apps.paper_exchange import errors
from apps.paper_exchange.engine.requests import OrderRequest
from apps.paper_exchange.numbers import is_multiple
from apps.paper_exchange.symbols import SymbolSpec

# Trailing orders whose stop trails above the market price.
_TRAILS_ABOVE = {
    ("STOP_LOSS", "BUY"),
    ("STOP_LOSS_LIMIT", "BUY"),
    ("TAKE_PROFIT", "SELL"),
    ("TAKE_PROFIT_LIMIT", "SELL"),
}


def check_price_filter(spec: SymbolSpec, price: Decimal) -> None:
    if (
        (spec.min_price > 0 and price < spec.min_price)
        or (spec.max_price > 0 and price > spec.max_price)
        or not is_multiple(price, spec.tick_size)
    ):
        raise errors.filter_failure("PRICE_FILTER")


def check_lot_size(spec: SymbolSpec, quantity: Decimal) -> None:
    if (
        quantity < spec.min_qty
        or quantity > spec.max_qty
        or not is_multiple(quantity - spec.min_qty, spec.step_size)
    ):
        raise errors.filter_failure("LOT_SIZE")


def check_market_lot_size(spec: SymbolSpec, quantity: Decimal) -> None:
    if spec.market_max_qty > 0 and quantity > spec.market_max_qty:
        raise errors.filter_failure("MARKET_LOT_SIZE")


def check_percent_price(spec: SymbolSpec, side: str, price: Decimal, average: Decimal) -> None:
    if side == "BUY":
        up, down = spec.bid_multiplier_up, spec.bid_multiplier_down
    else:
        up, down = spec.ask_multiplier_up, spec.ask_multiplier_down
    if price > average * up or price < average * down:
        raise errors.filter_failure("PERCENT_PRICE_BY_SIDE")


def check_notional(spec: SymbolSpec, notional: Decimal, is_market: bool) -> None:
    check_min = spec.apply_min_to_market or not is_market
    if spec.legacy_min_notional:
        if check_min and notional < spec.min_notional:
            raise errors.filter_failure("MIN_NOTIONAL")
        return
    check_max = spec.apply_max_to_market or not is_market
    if check_min and notional < spec.min_notional:
        raise errors.filter_failure("NOTIONAL")
    if check_max and spec.max_notional > 0 and notional > spec.max_notional:
        raise errors.filter_failure("NOTIONAL")


def check_trailing_delta(spec: SymbolSpec, request: OrderRequest) -> None:
    delta = request.trailing_delta
    if delta is None:
        return
    # Both directions use the same bounds here; the filter publishes them separately.
    if not spec.min_trailing_delta <= delta <= spec.max_trailing_delta:
        raise errors.filter_failure("TRAILING_DELTA")


def check_order(spec: SymbolSpec, request: OrderRequest, average_price: Decimal) -> None:
    """All request-level filters, in the order Binance evaluates them."""
    if request.price is not None:
        check_price_filter(spec, request.price)
    if request.stop_price is not None:
        check_price_filter(spec, request.stop_price)
    if request.quantity is not None:
        check_lot_size(spec, request.quantity)
        if request.type == "MARKET":
            check_market_lot_size(spec, request.quantity)
    if request.price is not None:
        check_percent_price(spec, request.side, request.price, average_price)
    check_trailing_delta(spec, request)
    is_market = request.type in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")
    if request.quote_order_qty is not None:
        notional = request.quote_order_qty
    elif request.price is not None:
        notional = request.price * request.quantity
    elif request.stop_price is not None:
        notional = request.stop_price * request.quantity
    else:
        notional = average_price * request.quantity
    check_notional(spec, notional, is_market)
