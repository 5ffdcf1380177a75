"""WebSocket API (``/ws-api/v3``): request framing, limits, signatures, and the methods.

Requests are ``{"id", "method", "params"}``; answers ``{"id", "status", "result" | "error",
"rateLimits"}``. Order methods run the REST handlers on the same engine, so their
parameters, checks and answers are the REST ones.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from apps.paper_exchange import errors
from apps.paper_exchange.server import routes_trading
from apps.paper_exchange.server.endpoint import Context, in_microseconds
from apps.paper_exchange.streams.hub import dumps
from apps.paper_exchange.wsapi.auth import as_params, authenticate

MAX_SUBSCRIPTIONS = 1000
MAX_LIFETIME_SUBSCRIPTIONS = 65_535
# Connecting to the WebSocket API weighs 2 (as in production).
CONNECT_WEIGHT = 2


class NoAnswer(Exception):
    """An injected hang: the request is never answered."""


@dataclass
class Method:
    handler: Callable
    weight: int = 1
    security: str = "NONE"
    orders: bool = False  # answers carry the ORDERS rate limits too
    free_when_successful: bool = False


class Session:
    def __init__(self, exchange, connection, return_rate_limits: bool = True):
        self.exchange = exchange
        self.connection = connection
        self.return_rate_limits = return_rate_limits
        self.subscriptions: dict[int, int] = {}  # subscription id -> account id
        self.started = 0

    def close(self) -> None:
        for subscription_id, account_id in list(self.subscriptions.items()):
            self.exchange.user_streams.remove(account_id, self.connection, subscription_id)
        self.subscriptions.clear()


# -- methods ---------------------------------------------------------------------------


def ping(session: Session, context: Context) -> dict:
    return {}


def server_time(session: Session, context: Context) -> dict:
    return {"serverTime": session.exchange.server_time()}


def subscribe_signature(session: Session, context: Context) -> dict:
    account_id = context.account.account_id
    if account_id in session.subscriptions.values():
        raise errors.ApiError(-1191, "Similar subscription is already active on this connection.")
    if len(session.subscriptions) >= MAX_SUBSCRIPTIONS:
        raise errors.ApiError(
            -1191,
            f"Too many subscriptions. Connection may create up to '{MAX_SUBSCRIPTIONS}' "
            "subscriptions at a time.",
        )
    if session.started >= MAX_LIFETIME_SUBSCRIPTIONS:
        raise errors.ApiError(
            -1191, "Too many subscriptions over this connection's lifetime; reconnect."
        )
    subscription_id = session.started
    session.started += 1
    session.subscriptions[subscription_id] = account_id
    session.exchange.user_streams.add(account_id, session.connection, subscription_id)
    return {"subscriptionId": subscription_id}


def unsubscribe(session: Session, context: Context) -> dict:
    wanted = context.params.integer("subscriptionId")
    now = session.exchange.market_time()
    for subscription_id, account_id in list(session.subscriptions.items()):
        if wanted is None or wanted == subscription_id:
            del session.subscriptions[subscription_id]
            session.exchange.user_streams.terminate(
                account_id, session.connection, subscription_id, now
            )
    return {}


def subscriptions(session: Session, context: Context) -> list:
    return [{"subscriptionId": subscription_id} for subscription_id in session.subscriptions]


def _rest(handler):
    def run(session: Session, context: Context):
        return handler(context)

    return run


METHODS = {
    "ping": Method(ping),
    "time": Method(server_time),
    "userDataStream.subscribe.signature": Method(subscribe_signature, 2, "USER_DATA"),
    "userDataStream.unsubscribe": Method(unsubscribe, 2),
    "session.subscriptions": Method(subscriptions, 2),
    "order.place": Method(
        _rest(routes_trading.new_order), 1, "TRADE", orders=True, free_when_successful=True
    ),
    "order.cancel": Method(
        _rest(routes_trading.cancel_order), 1, "TRADE", orders=True, free_when_successful=True
    ),
    "order.status": Method(_rest(routes_trading.query_order), 4, "USER_DATA"),
}


# -- framing -------------------------------------------------------------------------


def rate_limits(exchange, ip: str, account_id: int | None, orders: bool) -> list[dict]:
    limiter = exchange.limiter
    found = []
    if orders and account_id is not None:
        for window, limit, count in limiter.order_counts(account_id):
            found.append({**window.exchange_info("ORDERS", limit), "count": count})
    weight = limiter.weight_window.exchange_info("REQUEST_WEIGHT", exchange.config.limits.weight)
    found.append({**weight, "count": limiter.used_weight(ip)})
    return found


def _error_body(error: errors.ApiError, exchange) -> dict:
    body = error.payload()
    retry = error.headers.get("Retry-After")
    if error.status in (418, 429) and retry is not None:
        now = exchange.server_time()
        body["data"] = {"serverTime": now, "retryAfter": now + int(retry) * 1000}
    return body


async def handle(session: Session, text: str) -> str | None:
    """The answer to one request frame (None: an injected hang, no answer at all)."""
    exchange = session.exchange
    connection = session.connection
    request_id = None
    method = None
    account_id = None
    return_limits = session.return_rate_limits
    try:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise errors.ApiError(-1135, "Invalid JSON Request") from None
        if not isinstance(data, dict):
            raise errors.ApiError(-1135, "Invalid JSON Request")
        request_id = data.get("id")
        name = data.get("method")
        if not isinstance(name, str):
            raise errors.mandatory("method")
        name = name.removeprefix("v3/")
        params = data.get("params") or {}
        if not isinstance(params, dict):
            raise errors.ApiError(-1135, "Invalid JSON Request")
        method = METHODS.get(name)
        if method is None:
            raise errors.ApiError(-1020, "This operation is not supported.")
        return_limits = params.pop("returnRateLimits", session.return_rate_limits)
        if exchange.faults.in_maintenance(exchange.wall()):
            raise exchange.faults.maintenance_error()
        exchange.limiter.admit(connection.ip, 0 if method.free_when_successful else method.weight)
        context = Context(exchange, as_params(params), None)
        if method.security != "NONE":
            context.key, context.account = authenticate(
                exchange.store, params, method.security, exchange.server_time()
            )
            account_id = context.account.account_id
        rule = exchange.faults.pick("wsapi", account_id, "before")
        if rule is not None:
            if rule.kind == "hang":
                raise NoAnswer
            if rule.kind == "latency":
                await asyncio.sleep(rule.ms / 1000)
            else:
                raise rule.error()
        exchange.sync()
        result = method.handler(session, context)
        accepted = exchange.faults.pick("wsapi", account_id, "after")
        if accepted is not None:
            raise accepted.error()
        if connection.micro:
            result = in_microseconds(result)
        body = {"id": request_id, "status": context.status, "result": result}
    except NoAnswer:
        return None
    except errors.ApiError as error:
        if method is not None and method.free_when_successful and error.status not in (418, 429):
            exchange.limiter.charge(connection.ip, method.weight)
        body = {"id": request_id, "status": error.status, "error": _error_body(error, exchange)}
    if return_limits is not False and return_limits != "false":
        orders = method is not None and method.orders
        body["rateLimits"] = rate_limits(exchange, connection.ip, account_id, orders)
    return dumps(body)
