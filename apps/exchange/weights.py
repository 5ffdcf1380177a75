"""Request weight of every endpoint the gateway calls, in one place.

Values from Binance's Spot API docs (REST and WebSocket API share them). A weight
depends on parameters for some endpoints (depth by `limit`, tickers with and without
symbols, openOrders with and without a symbol); `request_weight` works it out before
the request is sent, because the limiter reserves the weight first.
"""

from __future__ import annotations

import json

# Fixed weights by (method, path).
FIXED_WEIGHTS: dict[tuple[str, str], int] = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/trades"): 25,
    ("GET", "/api/v3/historicalTrades"): 25,
    ("GET", "/api/v3/aggTrades"): 4,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/uiKlines"): 2,
    ("GET", "/api/v3/avgPrice"): 2,
    ("POST", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/test"): 1,
    ("DELETE", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/cancelReplace"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/myTrades"): 20,
    ("GET", "/api/v3/rateLimit/order"): 40,
    ("POST", "/api/v3/orderList/oco"): 1,
    ("POST", "/api/v3/orderList/oto"): 1,
    ("POST", "/api/v3/orderList/otoco"): 1,
    ("DELETE", "/api/v3/orderList"): 1,
    ("GET", "/api/v3/orderList"): 4,
    ("GET", "/api/v3/allOrderList"): 20,
    # SAPI has its own limits; counting it against the IP pool too is conservative.
    ("GET", "/sapi/v1/account/apiRestrictions"): 1,
}
# Requests that count against the per-account unfilled-order limits, and how many
# orders each adds (an OCO or OTO places two, an OTOCO three).
ORDER_PLACING = {
    ("POST", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/cancelReplace"): 1,
    ("POST", "/api/v3/orderList/oco"): 2,
    ("POST", "/api/v3/orderList/oto"): 2,
    ("POST", "/api/v3/orderList/otoco"): 3,
}

# WebSocket: opening a WebSocket API connection costs weight 2; market-stream
# connection attempts are limited separately (300 per 5 minutes per IP).
WS_API_CONNECTION_WEIGHT = 2
WS_CONNECTION_ATTEMPTS_LIMIT = 300
WS_CONNECTION_ATTEMPTS_WINDOW_MS = 5 * 60 * 1000


def depth_weight(limit: int | None) -> int:
    limit = 100 if limit is None else int(limit)
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def _symbol_count(params: dict) -> int | None:
    """How many symbols the request names; None when it asks for all of them."""
    if params.get("symbol"):
        return 1
    symbols = params.get("symbols")
    if not symbols:
        return None
    if isinstance(symbols, str):
        symbols = json.loads(symbols)
    return len(symbols)


def ticker_24hr_weight(params: dict) -> int:
    count = _symbol_count(params)
    if count is None:
        return 80
    if count <= 20:
        return 2
    if count <= 100:
        return 40
    return 80


def ticker_price_weight(params: dict) -> int:
    count = _symbol_count(params)
    return 2 if count == 1 and params.get("symbol") else 4


def rolling_ticker_weight(params: dict) -> int:
    count = _symbol_count(params) or 1
    return min(4 * count, 200)


def open_orders_weight(params: dict) -> int:
    return 6 if params.get("symbol") else 80


def my_trades_weight(params: dict) -> int:
    return 5 if params.get("orderId") else 20


_PARAMETRIC = {
    ("GET", "/api/v3/depth"): lambda p: depth_weight(p.get("limit")),
    ("GET", "/api/v3/ticker/24hr"): ticker_24hr_weight,
    ("GET", "/api/v3/ticker/price"): ticker_price_weight,
    ("GET", "/api/v3/ticker/bookTicker"): ticker_price_weight,
    ("GET", "/api/v3/ticker"): rolling_ticker_weight,
    ("GET", "/api/v3/ticker/tradingDay"): rolling_ticker_weight,
    ("GET", "/api/v3/openOrders"): open_orders_weight,
    ("GET", "/api/v3/openOrderList"): lambda p: 6,
    ("GET", "/api/v3/myTrades"): my_trades_weight,
}


class UnknownEndpoint(KeyError):
    pass


def request_weight(method: str, path: str, params: dict | None = None) -> int:
    key = (method.upper(), path)
    params = params or {}
    if key in _PARAMETRIC:
        return _PARAMETRIC[key](params)
    try:
        return FIXED_WEIGHTS[key]
    except KeyError:
        # An unlisted endpoint is a bug to fix here, not a request to guess about.
        raise UnknownEndpoint(f"no weight known for {method.upper()} {path}") from None


def orders_placed(method: str, path: str) -> int:
    return ORDER_PLACING.get((method.upper(), path), 0)


# WebSocket API methods weigh what their REST equivalents weigh.
WS_API_EQUIVALENTS = {
    "ping": ("GET", "/api/v3/ping"),
    "time": ("GET", "/api/v3/time"),
    "exchangeInfo": ("GET", "/api/v3/exchangeInfo"),
    "depth": ("GET", "/api/v3/depth"),
    "klines": ("GET", "/api/v3/klines"),
    "avgPrice": ("GET", "/api/v3/avgPrice"),
    "ticker.price": ("GET", "/api/v3/ticker/price"),
    "ticker.24hr": ("GET", "/api/v3/ticker/24hr"),
    "order.place": ("POST", "/api/v3/order"),
    "order.status": ("GET", "/api/v3/order"),
    "order.cancel": ("DELETE", "/api/v3/order"),
    "order.cancelReplace": ("POST", "/api/v3/order/cancelReplace"),
    "openOrders.status": ("GET", "/api/v3/openOrders"),
    "account.status": ("GET", "/api/v3/account"),
    "orderList.place.oco": ("POST", "/api/v3/orderList/oco"),
}
# session.logon and the user-data subscription requests weigh 2 each.
WS_API_SESSION_WEIGHTS = {
    "session.logon": 2,
    "userDataStream.subscribe.signature": 2,
    "userDataStream.unsubscribe": 2,
}


def ws_api_weight(method: str, params: dict | None = None) -> int:
    if method in WS_API_SESSION_WEIGHTS:
        return WS_API_SESSION_WEIGHTS[method]
    try:
        rest_method, path = WS_API_EQUIVALENTS[method]
    except KeyError:
        raise UnknownEndpoint(f"no weight known for WebSocket API method {method}") from None
    return request_weight(rest_method, path, params)
