"""Order placement that never sends an order twice.

The caller supplies the client order id (deterministic, from account, strategy,
candle and intent). When the outcome of a send is unknown (timeout, some 5xx, -1001,
-1006, -1007) the order is looked up by that id:

- found: the outcome is known, whatever the send said;
- not found (-2013): it may still be in flight, so keep asking for a grace period.
  Binance accepts a reused client id once the earlier order has closed, so a resend
  could double a filled order; it is allowed only when -2013 has persisted past the
  grace period *and* the caller confirms the intent is still valid, and always with
  the same client id;
- past the deadline: `unknown`, for reconciliation to settle.

An intent that may have been sent before (a retried task, a restarted worker) is
placed with `query_first=True`, and -2010 "Duplicate order sent." (an open order has
the id) is resolved by the same lookup.

Errors that prove the request was not executed (-1021 outside recvWindow, a refused
connection, 429) are not unknown outcomes: -1021 is resent once at once after the
clock resync, the others go back to the caller with the order certainly absent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from apps.core.decimals import to_wire
from apps.core.errors import ValidationError
from apps.monitoring.metrics import EXCHANGE_ORDER_OUTCOMES

from . import conf
from .errors import (
    DuplicateOrderError,
    ExchangeError,
    OrderNotFoundError,
    TimestampError,
    UncertainOutcomeError,
)
from .filters import QuantizedOrder

CLIENT_ORDER_ID = re.compile(r"^[.A-Za-z0-9:/_-]{1,36}$")
PLACED, UNKNOWN = "placed", "unknown"


def validate_client_order_id(client_order_id: str) -> str:
    if not isinstance(client_order_id, str) or not CLIENT_ORDER_ID.match(client_order_id):
        raise ValidationError(
            "client_order_id", "1 to 36 characters of letters, digits and . : / _ -"
        )
    return client_order_id


@dataclass
class OrderOutcome:
    status: str  # "placed" or "unknown"
    client_order_id: str
    order: dict | None = None  # the exchange's answer (new order or query)
    sends: int = 0
    resolved_by_query: bool = False
    notes: list[str] = field(default_factory=list)


def order_params(
    symbol: str,
    order: QuantizedOrder,
    client_order_id: str,
    *,
    time_in_force: str | None = None,
    response_type: str = "RESULT",
) -> dict[str, str]:
    params = {
        "symbol": symbol,
        "side": order.side,
        "type": order.order_type,
        "newClientOrderId": validate_client_order_id(client_order_id),
        "newOrderRespType": response_type,
        **order.wire_params(),
    }
    if order.order_type in {"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}:
        params["timeInForce"] = time_in_force or "GTC"
    return params


def place_order(
    gateway,
    symbol: str,
    order: QuantizedOrder,
    client_order_id: str,
    *,
    confirm_resend: Callable[[], bool] | None = None,
    time_in_force: str | None = None,
    query_first: bool = False,
    grace_seconds: float | None = None,
    deadline_seconds: float | None = None,
    query_interval: float | None = None,
    response_type: str = "RESULT",
) -> OrderOutcome:
    """Place `order` at most once under `client_order_id` (see the module docstring).

    `query_first=True` looks the id up before sending: required whenever the intent
    may have been sent before (a retried or redelivered task, a restarted worker),
    because Binance accepts a client id again once its order has closed.

    Raises the mapped error when the exchange refused the order or it was certainly
    not executed; returns an `OrderOutcome` otherwise.
    """
    params = order_params(
        symbol, order, client_order_id, time_in_force=time_in_force, response_type=response_type
    )
    return _place_at_most_once(
        gateway,
        "/api/v3/order",
        params,
        client_order_id,
        query=lambda: gateway.query_order(symbol, client_order_id),
        confirm_resend=confirm_resend,
        timing=(grace_seconds, deadline_seconds, query_interval),
        query_first=query_first,
    )


def place_order_list(
    gateway,
    path: str,
    params: dict[str, str],
    list_client_order_id: str,
    *,
    confirm_resend: Callable[[], bool] | None = None,
    query_first: bool = False,
    grace_seconds: float | None = None,
    deadline_seconds: float | None = None,
    query_interval: float | None = None,
) -> OrderOutcome:
    """An order list (OCO, OTO, OTOCO: `path` such as "/api/v3/orderList/oco") placed
    at most once under `list_client_order_id`, resolved by GET /api/v3/orderList.

    `params` are the list's wire parameters (legs already quantized by the caller);
    the legs' own client ids, if given, must follow the client-id rules too.
    """
    validate_client_order_id(list_client_order_id)
    for key, value in params.items():
        if key.endswith("ClientOrderId"):
            validate_client_order_id(value)
    params = {**params, "listClientOrderId": list_client_order_id}
    symbol = params["symbol"]
    return _place_at_most_once(
        gateway,
        path,
        params,
        list_client_order_id,
        query=lambda: gateway.request(
            "GET",
            "/api/v3/orderList",
            {"symbol": symbol, "origClientOrderId": list_client_order_id},
            signed=True,
            group="trading",
            retry=False,
        ),
        confirm_resend=confirm_resend,
        timing=(grace_seconds, deadline_seconds, query_interval),
        query_first=query_first,
    )


def _place_at_most_once(
    gateway, path, params, client_id, *, query, confirm_resend, timing, query_first=False
):
    grace, deadline_s, interval = timing
    grace = conf.unknown_order_grace_seconds() if grace is None else grace
    deadline_s = conf.unknown_order_deadline_seconds() if deadline_s is None else deadline_s
    interval = conf.unknown_order_query_interval_seconds() if interval is None else interval
    outcome = OrderOutcome(PLACED, client_id)
    deadline = time.monotonic() + deadline_s
    if query_first:
        try:
            outcome.order = query()
        except OrderNotFoundError:
            pass
        else:
            outcome.resolved_by_query = True
            outcome.notes.append("already on the exchange; not sent")
            EXCHANGE_ORDER_OUTCOMES.labels(outcome="already_placed").inc()
            return outcome
    while True:
        try:
            outcome.order = _send_once(gateway, path, params, outcome)
            EXCHANGE_ORDER_OUTCOMES.labels(outcome="placed").inc()
            return outcome
        except UncertainOutcomeError as error:
            outcome.notes.append(f"send {outcome.sends}: outcome unknown ({error.message})")
        except DuplicateOrderError:
            # An open order already carries this id: the intent is on the exchange.
            outcome.notes.append(f"send {outcome.sends}: duplicate client id")
        resolved = _resolve(query, outcome, grace, deadline, interval)
        if resolved is not None:
            outcome.order = resolved
            outcome.resolved_by_query = True
            EXCHANGE_ORDER_OUTCOMES.labels(outcome="resolved_by_query").inc()
            return outcome
        if time.monotonic() >= deadline or confirm_resend is None or not confirm_resend():
            outcome.status = UNKNOWN
            outcome.notes.append("unresolved: left for reconciliation")
            EXCHANGE_ORDER_OUTCOMES.labels(outcome="unknown").inc()
            return outcome
        outcome.notes.append("absent past the grace period; resending with the same id")
        EXCHANGE_ORDER_OUTCOMES.labels(outcome="resent").inc()


def _send_once(gateway, path: str, params: dict, outcome: OrderOutcome) -> dict:
    outcome.sends += 1
    try:
        return gateway.request(
            "POST", path, dict(params), signed=True, group="trading", retry=False
        )
    except TimestampError:
        # Rejected for its timestamp, so certainly not executed; the gateway resynced.
        outcome.sends += 1
        return gateway.request(
            "POST", path, dict(params), signed=True, group="trading", retry=False
        )


def _resolve(query, outcome, grace, deadline, interval):
    """Query until found, or until -2013 has held for `grace` seconds (or the deadline)."""
    absent_since: float | None = None
    while True:
        try:
            return query()
        except OrderNotFoundError:
            now = time.monotonic()
            absent_since = absent_since if absent_since is not None else now
            if now - absent_since >= grace:
                outcome.notes.append(f"not found for {now - absent_since:.1f}s")
                return None
        except ExchangeError as error:
            # The query itself failed (timeout, 5xx, rate limit): keep trying until deadline.
            absent_since = None
            outcome.notes.append(f"query failed: {error.code}")
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def describe(order: QuantizedOrder, symbol: str) -> str:
    price = f" @ {to_wire(order.price)}" if order.price is not None else ""
    return f"{order.side} {to_wire(order.quantity)} {symbol} {order.order_type}{price}"
