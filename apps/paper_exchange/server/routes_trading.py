"""Trading endpoints: orders, test orders, cancel-replace, open orders, OCO lists."""

from __future__ import annotations

from apps.paper_exchange import errors, filters
from apps.paper_exchange.engine.events import REJECT_REASONS
from apps.paper_exchange.engine.matching import random_client_id
from apps.paper_exchange.engine.models import Order
from apps.paper_exchange.engine.requests import OcoRequest, OrderRequest
from apps.paper_exchange.numbers import ZERO
from apps.paper_exchange.server.endpoint import Context, Endpoint, route
from apps.paper_exchange.server.order_params import (
    client_id,
    parse_legacy_oco,
    parse_oco,
    parse_order,
)
from apps.paper_exchange.server.responses import (
    cancel_report,
    list_cancel_response,
    list_response,
    list_status,
    order_response,
)

CANCEL_RESTRICTIONS = ("ONLY_NEW", "ONLY_PARTIALLY_FILLED")


def _check_filters(context: Context, request: OrderRequest) -> None:
    exchange = context.exchange
    spec = exchange.market.specs[request.symbol]
    average = exchange.market.average_price(
        request.symbol, exchange.market_time(), spec.avg_price_mins
    )
    filters.check_order(spec, request, average)


def _place(context: Context, request: OrderRequest):
    """Count the order against the unfilled-order limits, then hand it to the engine."""
    exchange = context.exchange
    account = context.account
    exchange.limiter.admit_orders(account.account_id, 1)
    exchange.limiter.add_orders(account.account_id, 1)
    try:
        order, fills = exchange.engine.place(account, request)
    except errors.ApiError:
        exchange.limiter.add_orders(account.account_id, -1)
        raise
    return order, fills


def report_rejected(engine, account, request: OrderRequest, error: errors.ApiError) -> None:
    """The REJECTED executionReport of a cancel-replace whose new order failed."""
    now = engine.now()
    order = Order(
        symbol=request.symbol,
        order_id=-1,
        account_id=account.account_id,
        client_order_id=request.new_client_order_id or random_client_id(),
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        orig_qty=request.quantity if request.quantity is not None else ZERO,
        price=request.price or ZERO,
        stop_price=request.stop_price or ZERO,
        quote_order_qty=request.quote_order_qty or ZERO,
        status="REJECTED",
        time=now,
        stp_mode=request.stp_mode,
    )
    engine.journal.order(
        order, "REJECTED", now, reject_reason=REJECT_REASONS.get(error.msg, "OTHER")
    )


def new_order(context: Context) -> dict:
    spec = context.symbol()
    request = parse_order(context.params, spec.symbol)
    _check_filters(context, request)
    order, fills = _place(context, request)
    return order_response(order, fills, request.response_type, order.time)


def test_order(context: Context) -> dict:
    spec = context.symbol()
    request = parse_order(context.params, spec.symbol)
    _check_filters(context, request)
    # Validated like a real order up to the matching engine, which it never reaches
    # (so balances are not checked, as on Binance).
    context.exchange.engine.check_new(context.account, request)
    if context.params.boolean("computeCommissionRates"):
        account = context.account
        rates = {
            "maker": f"{account.maker_commission:.8f}",
            "taker": f"{account.taker_commission:.8f}",
        }
        zero = {"maker": "0.00000000", "taker": "0.00000000"}
        return {
            "standardCommissionForOrder": rates,
            "specialCommissionForOrder": zero,
            "taxCommissionForOrder": zero,
            "discount": {
                "enabledForAccount": False,
                "enabledForSymbol": False,
                "discountAsset": "BNB",
                "discount": "0.00000000",
            },
        }
    return {}


def _order_ids(context: Context, id_name: str, client_name: str):
    params = context.params
    order_id = params.integer(id_name)
    client = params.text(client_name)
    if order_id is None and client is None:
        raise errors.one_of_mandatory(id_name, client_name)
    return order_id, client


def query_order(context: Context) -> dict:
    spec = context.symbol()
    order_id, client = _order_ids(context, "orderId", "origClientOrderId")
    order = context.exchange.engine.find_order(context.account, spec.symbol, order_id, client)
    return order.query_view()


def cancel_order(context: Context) -> dict:
    spec = context.symbol()
    order_id, client = _order_ids(context, "orderId", "origClientOrderId")
    restrictions = context.params.enum(
        "cancelRestrictions", CANCEL_RESTRICTIONS, errors.invalid_cancel_restrictions
    )
    new_id = client_id(context.params, "newClientOrderId") or random_client_id()
    engine = context.exchange.engine
    order = engine.cancel(context.account, spec.symbol, order_id, client, restrictions, new_id)
    return cancel_report(order, new_id, engine.now())


def cancel_replace(context: Context):
    spec = context.symbol()
    params = context.params
    mode = params.enum("cancelReplaceMode", ("STOP_ON_FAILURE", "ALLOW_FAILURE"), required=True)
    rate_mode = params.enum("orderRateLimitExceededMode", ("DO_NOTHING", "CANCEL_ONLY"))
    cancel_id = params.integer("cancelOrderId")
    cancel_client = params.text("cancelOrigClientOrderId")
    if cancel_id is None and cancel_client is None:
        raise errors.one_of_mandatory("cancelOrderId", "cancelOrigClientOrderId")
    cancel_new_id = client_id(params, "cancelNewClientOrderId") or random_client_id()
    restrictions = params.enum(
        "cancelRestrictions", CANCEL_RESTRICTIONS, errors.invalid_cancel_restrictions
    )
    request = parse_order(params, spec.symbol)
    _check_filters(context, request)
    exchange = context.exchange
    engine = exchange.engine
    account = context.account
    rate_error = None
    try:
        exchange.limiter.admit_orders(account.account_id, 1)
    except errors.ApiError as error:
        if rate_mode != "CANCEL_ONLY":
            raise
        rate_error = error
    cancel_result, cancel_response = "SUCCESS", None
    try:
        cancelled = engine.cancel(
            account, spec.symbol, cancel_id, cancel_client, restrictions, cancel_new_id
        )
        cancel_response = cancel_report(cancelled, cancel_new_id, engine.now())
    except errors.ApiError as error:
        cancel_result, cancel_response = "FAILURE", error.payload()
    new_result, new_response = "NOT_ATTEMPTED", None
    if cancel_result == "SUCCESS" or mode == "ALLOW_FAILURE":
        if rate_error is not None:
            new_result, new_response = "FAILURE", rate_error.payload()
        else:
            try:
                order, fills = _place(context, request)
                new_result = "SUCCESS"
                new_response = order_response(order, fills, request.response_type, order.time)
            except errors.ApiError as error:
                new_result, new_response = "FAILURE", error.payload()
                if cancel_result == "SUCCESS":
                    report_rejected(engine, account, request, error)
    elif rate_error is None:
        # A new order that was not attempted still counts as an unfilled order.
        exchange.limiter.add_orders(account.account_id, 1)
    data = {
        "cancelResult": cancel_result,
        "newOrderResult": new_result,
        "cancelResponse": cancel_response,
        "newOrderResponse": new_response,
    }
    if cancel_result == "SUCCESS" and new_result == "SUCCESS":
        return data
    if cancel_result == "FAILURE" and new_result != "SUCCESS":
        raise errors.ApiError(-2022, "Order cancel-replace failed.", status=400, data=data)
    raise errors.ApiError(-2021, "Order cancel-replace partially failed.", status=409, data=data)


def open_orders(context: Context) -> list:
    spec = context.symbol(required=False)
    orders = context.exchange.store.account_open_orders(
        context.account.account_id, spec.symbol if spec else None
    )
    return [order.query_view() for order in orders]


def cancel_open_orders(context: Context) -> list:
    spec = context.symbol()
    exchange = context.exchange
    engine = exchange.engine
    account = context.account
    orders = exchange.store.account_open_orders(account.account_id, spec.symbol)
    if not orders:
        raise errors.cancel_rejected()
    now = engine.now()
    result: list = []
    done_lists: set[int] = set()
    for order in orders:
        if not order.is_open:
            continue
        if order.order_list_id != -1:
            if order.order_list_id in done_lists:
                continue
            order_list = exchange.store.order_lists[order.order_list_id]
            cancel_id = random_client_id()
            legs = engine.cancel_list(account, order_list, cancel_id)
            done_lists.add(order.order_list_id)
            result.append(list_cancel_response(order_list, legs, cancel_id, now))
            continue
        cancel_id = random_client_id()
        engine.cancel(account, spec.symbol, order.order_id, None, cancel_client_id=cancel_id)
        result.append(cancel_report(order, cancel_id, now))
    return result


def all_orders(context: Context) -> list:
    spec = context.symbol()
    params = context.params
    limit = params.limit(500, 1000)
    order_id = params.integer("orderId")
    start = params.integer("startTime")
    end = params.integer("endTime")
    account_id = context.account.account_id
    orders = [
        order
        for order in context.exchange.store.orders[spec.symbol].values()
        if order.account_id == account_id
    ]
    orders.sort(key=lambda order: order.order_id)
    if order_id is not None:
        orders = [order for order in orders if order.order_id >= order_id][:limit]
    elif start is not None or end is not None:
        orders = [
            order
            for order in orders
            if (start is None or order.time >= start) and (end is None or order.time <= end)
        ]
        orders = orders[:limit] if start is not None else orders[-limit:]
    else:
        orders = orders[-limit:]
    return [order.query_view() for order in orders]


# -- order lists -----------------------------------------------------------------------


def _place_list(context: Context, request: OcoRequest) -> dict:
    for leg in (request.above, request.below):
        _check_filters(context, leg)
    exchange = context.exchange
    account = context.account
    exchange.limiter.admit_orders(account.account_id, 2)
    exchange.limiter.add_orders(account.account_id, 2)
    try:
        order_list, orders = exchange.engine.place_oco(account, request)
    except errors.ApiError:
        exchange.limiter.add_orders(account.account_id, -2)
        raise
    return list_response(
        order_list, orders, request.resp_type or "RESULT", order_list.transaction_time
    )


def new_oco(context: Context) -> dict:
    spec = context.symbol()
    return _place_list(context, parse_oco(context.params, spec.symbol))


def new_legacy_oco(context: Context) -> dict:
    spec = context.symbol()
    return _place_list(context, parse_legacy_oco(context.params, spec.symbol))


def _find_list(context: Context, symbol: str | None):
    params = context.params
    list_id = params.integer("orderListId")
    list_client = params.text("listClientOrderId") or params.text("origClientOrderId")
    if list_id is None and list_client is None:
        raise errors.one_of_mandatory("orderListId", "listClientOrderId")
    account_id = context.account.account_id
    lists = context.exchange.store.order_lists
    if list_id is not None:
        found = lists.get(list_id)
        if found is not None and list_client not in (None, found.list_client_order_id):
            found = None
    else:
        matches = [
            item
            for item in lists.values()
            if item.list_client_order_id == list_client and item.account_id == account_id
        ]
        found = matches[-1] if matches else None
    if found is None or found.account_id != account_id or (symbol and found.symbol != symbol):
        return None
    return found


def cancel_list(context: Context) -> dict:
    spec = context.symbol()
    order_list = _find_list(context, spec.symbol)
    if order_list is None:
        raise errors.cancel_rejected()
    new_id = client_id(context.params, "newClientOrderId") or random_client_id()
    engine = context.exchange.engine
    orders = engine.cancel_list(context.account, order_list, new_id)
    return list_cancel_response(order_list, orders, new_id, engine.now())


def query_list(context: Context) -> dict:
    order_list = _find_list(context, None)
    if order_list is None:
        raise errors.ApiError(-2013, "Order list does not exist.")
    return list_status(order_list, context.exchange.engine.list_orders(order_list))


def all_lists(context: Context) -> list:
    limit = context.params.limit(500, 1000)
    account_id = context.account.account_id
    engine = context.exchange.engine
    lists = [
        item
        for item in context.exchange.store.order_lists.values()
        if item.account_id == account_id
    ]
    lists.sort(key=lambda item: item.order_list_id)
    return [list_status(item, engine.list_orders(item)) for item in lists[-limit:]]


def open_lists(context: Context) -> list:
    account_id = context.account.account_id
    engine = context.exchange.engine
    return [
        list_status(item, engine.list_orders(item))
        for item in context.exchange.store.order_lists.values()
        if item.account_id == account_id and item.is_open
    ]


def _test_order_weight(params) -> int:
    return 20 if params.text("computeCommissionRates") == "true" else 1


def _open_orders_weight(params) -> int:
    return 6 if "symbol" in params else 80


def routes() -> list:
    table: list = []
    trade = dict(security="TRADE", free_when_successful=True, order_count_headers=True)
    route(table, "POST", "/api/v3/order", Endpoint(new_order, weight=1, **trade))
    route(
        table,
        "POST",
        "/api/v3/order/test",
        Endpoint(test_order, weight=_test_order_weight, security="TRADE"),
    )
    route(table, "DELETE", "/api/v3/order", Endpoint(cancel_order, weight=1, **trade))
    route(table, "GET", "/api/v3/order", Endpoint(query_order, weight=4, security="USER_DATA"))
    route(table, "POST", "/api/v3/order/cancelReplace", Endpoint(cancel_replace, weight=1, **trade))
    route(
        table,
        "GET",
        "/api/v3/openOrders",
        Endpoint(open_orders, weight=_open_orders_weight, security="USER_DATA"),
    )
    route(table, "DELETE", "/api/v3/openOrders", Endpoint(cancel_open_orders, weight=1, **trade))
    route(table, "GET", "/api/v3/allOrders", Endpoint(all_orders, weight=20, security="USER_DATA"))
    route(table, "POST", "/api/v3/orderList/oco", Endpoint(new_oco, weight=1, **trade))
    route(table, "POST", "/api/v3/order/oco", Endpoint(new_legacy_oco, weight=1, **trade))
    route(table, "DELETE", "/api/v3/orderList", Endpoint(cancel_list, weight=1, **trade))
    route(table, "GET", "/api/v3/orderList", Endpoint(query_list, weight=4, security="USER_DATA"))
    route(
        table, "GET", "/api/v3/allOrderList", Endpoint(all_lists, weight=20, security="USER_DATA")
    )
    route(
        table, "GET", "/api/v3/openOrderList", Endpoint(open_lists, weight=6, security="USER_DATA")
    )
    return table
