"""Turning order parameters into validated requests (-1100, -1102, -1106, -1115...)."""

from __future__ import annotations

import re

from apps.paper_exchange import errors
from apps.paper_exchange.engine.requests import OcoRequest, OrderRequest
from apps.paper_exchange.errors import CLIENT_ID_REGEX
from apps.paper_exchange.server.params import Params
from apps.paper_exchange.symbols import ORDER_TYPES, STP_MODES

SIDES = ("BUY", "SELL")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
RESPONSE_TYPES = ("ACK", "RESULT", "FULL")
_CLIENT_ID = re.compile(CLIENT_ID_REGEX)

# Per type: parameters that must be sent, and those that must not.
_NEEDS_TIF = {"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}
_NEEDS_PRICE = {"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}
_NEEDS_STOP = {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}


def client_id(params: Params, name: str) -> str | None:
    value = params.text(name)
    if value is not None and not _CLIENT_ID.fullmatch(value):
        raise errors.illegal_chars(name, CLIENT_ID_REGEX)
    return value


def parse_order(params: Params, symbol: str) -> OrderRequest:
    side = params.enum("side", SIDES, errors.invalid_side, required=True)
    order_type = params.enum("type", ORDER_TYPES, errors.invalid_order_type, required=True)
    request = OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        time_in_force=params.enum("timeInForce", TIME_IN_FORCE, errors.invalid_tif),
        quantity=params.decimal("quantity"),
        quote_order_qty=params.decimal("quoteOrderQty"),
        price=params.decimal("price"),
        stop_price=params.decimal("stopPrice"),
        trailing_delta=params.integer("trailingDelta", minimum=1),
        new_client_order_id=client_id(params, "newClientOrderId"),
        resp_type=params.enum("newOrderRespType", RESPONSE_TYPES),
        stp_mode=params.enum("selfTradePreventionMode", STP_MODES) or "NONE",
        strategy_id=params.integer("strategyId"),
        strategy_type=params.integer("strategyType"),
    )
    if params.text("icebergQty") is not None:
        raise errors.new_order_rejected("Iceberg orders are not supported for this symbol.")
    check_combination(request)
    return request


def check_combination(request: OrderRequest) -> None:
    order_type = request.type
    if request.strategy_type is not None and request.strategy_type < 1_000_000:
        raise errors.bad_strategy_type()
    if order_type == "MARKET":
        if request.quantity is None and request.quote_order_qty is None:
            raise errors.one_of_mandatory("quantity", "quoteOrderQty")
        if request.quantity is not None and request.quote_order_qty is not None:
            raise errors.param_not_required("quoteOrderQty")
    else:
        if request.quantity is None:
            raise errors.mandatory("quantity")
        if request.quote_order_qty is not None:
            raise errors.param_not_required("quoteOrderQty")
    if order_type in _NEEDS_TIF:
        if request.time_in_force is None:
            raise errors.mandatory("timeInForce")
    elif request.time_in_force is not None:
        raise errors.tif_not_required()
    if order_type in _NEEDS_PRICE:
        if request.price is None:
            raise errors.mandatory("price")
    elif request.price is not None:
        raise errors.param_not_required("price")
    if order_type in _NEEDS_STOP:
        if request.stop_price is None and request.trailing_delta is None:
            raise errors.one_of_mandatory("stopPrice", "trailingDelta")
    else:
        if request.stop_price is not None:
            raise errors.param_not_required("stopPrice")
        if request.trailing_delta is not None:
            raise errors.param_not_required("trailingDelta")


ABOVE_TYPES = ("STOP_LOSS_LIMIT", "STOP_LOSS", "LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
BELOW_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "LIMIT_MAKER")


def _leg(params: Params, prefix: str, symbol: str, side: str, quantity, allowed) -> OrderRequest:
    order_type = params.enum(
        f"{prefix}Type", allowed, errors.oco_order_type_rejected, required=True
    )
    leg = OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=quantity,
        price=params.decimal(f"{prefix}Price"),
        stop_price=params.decimal(f"{prefix}StopPrice"),
        trailing_delta=params.integer(f"{prefix}TrailingDelta", minimum=1),
        time_in_force=params.enum(f"{prefix}TimeInForce", TIME_IN_FORCE, errors.invalid_tif),
        new_client_order_id=client_id(params, f"{prefix}ClientOrderId"),
        stp_mode=params.enum("selfTradePreventionMode", STP_MODES) or "NONE",
        strategy_id=params.integer(f"{prefix}StrategyId"),
        strategy_type=params.integer(f"{prefix}StrategyType"),
    )
    if params.text(f"{prefix}IcebergQty") is not None:
        raise errors.new_order_rejected("Iceberg orders are not supported for this symbol.")
    _check_leg(leg, prefix)
    return leg


def _check_leg(leg: OrderRequest, prefix: str) -> None:
    if leg.type in _NEEDS_STOP and leg.stop_price is None and leg.trailing_delta is None:
        raise errors.one_of_mandatory(f"{prefix}StopPrice", f"{prefix}TrailingDelta")
    if leg.type in _NEEDS_PRICE and leg.price is None:
        raise errors.mandatory(f"{prefix}Price")
    if leg.type in _NEEDS_TIF and leg.time_in_force is None:
        raise errors.mandatory(f"{prefix}TimeInForce")
    if leg.type not in _NEEDS_TIF and leg.time_in_force is not None:
        raise errors.tif_not_required()


def parse_oco(params: Params, symbol: str) -> OcoRequest:
    side = params.enum("side", SIDES, errors.invalid_side, required=True)
    quantity = params.decimal("quantity", required=True)
    above = _leg(params, "above", symbol, side, quantity, ABOVE_TYPES)
    below = _leg(params, "below", symbol, side, quantity, BELOW_TYPES)
    return OcoRequest(
        symbol=symbol,
        side=side,
        quantity=quantity,
        above=above,
        below=below,
        list_client_order_id=client_id(params, "listClientOrderId"),
        resp_type=params.enum("newOrderRespType", RESPONSE_TYPES),
    )


def parse_legacy_oco(params: Params, symbol: str) -> OcoRequest:
    """POST /api/v3/order/oco: a LIMIT_MAKER leg plus a STOP_LOSS(_LIMIT) leg."""
    side = params.enum("side", SIDES, errors.invalid_side, required=True)
    quantity = params.decimal("quantity", required=True)
    price = params.decimal("price", required=True)
    stop_price = params.decimal("stopPrice")
    trailing = params.integer("trailingDelta", minimum=1)
    if stop_price is None and trailing is None:
        raise errors.mandatory("stopPrice")
    stop_limit_price = params.decimal("stopLimitPrice")
    stop_tif = params.enum("stopLimitTimeInForce", TIME_IN_FORCE, errors.invalid_tif)
    if stop_limit_price is not None and stop_tif is None:
        raise errors.mandatory("stopLimitTimeInForce")
    stp = params.enum("selfTradePreventionMode", STP_MODES) or "NONE"
    limit_leg = OrderRequest(
        symbol=symbol,
        side=side,
        type="LIMIT_MAKER",
        quantity=quantity,
        price=price,
        new_client_order_id=client_id(params, "limitClientOrderId"),
        stp_mode=stp,
        strategy_id=params.integer("limitStrategyId"),
        strategy_type=params.integer("limitStrategyType"),
    )
    stop_leg = OrderRequest(
        symbol=symbol,
        side=side,
        type="STOP_LOSS_LIMIT" if stop_limit_price is not None else "STOP_LOSS",
        quantity=quantity,
        price=stop_limit_price,
        stop_price=stop_price,
        trailing_delta=trailing,
        time_in_force=stop_tif if stop_limit_price is not None else None,
        new_client_order_id=client_id(params, "stopClientOrderId"),
        stp_mode=stp,
        strategy_id=params.integer("stopStrategyId"),
        strategy_type=params.integer("stopStrategyType"),
    )
    above, below = (limit_leg, stop_leg) if side == "SELL" else (stop_leg, limit_leg)
    return OcoRequest(
        symbol=symbol,
        side=side,
        quantity=quantity,
        above=above,
        below=below,
        list_client_order_id=client_id(params, "listClientOrderId"),
        resp_type=params.enum("newOrderRespType", RESPONSE_TYPES),
    )
