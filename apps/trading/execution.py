"""Execution primitives: send an order row to the exchange, cancel it, and book what
the exchange reports about it. Every other part of the trading core (cycles,
protective orders, controls, reconciliation) goes through these, so an order is
always written before it is sent and never sent twice.

- `submit(order)` sends a `pending` (or `unknown`) order with its client id through
  `apps.exchange.orders.place_order` (at most once: an uncertain outcome is resolved by
  querying the id). The answer's status and fills are booked at once; an unresolved
  outcome leaves the order `unknown` for reconciliation.
- `cancel(order)` cancels it by client id; an order the exchange no longer knows
  open is refreshed from the exchange instead.
- `apply_report(order, report)` books an order as the exchange describes it (a REST
  order, a new-order answer with fills): status, ids, then fills.
- `sync_fills(order)` books the order's trades from `myTrades` (after a stream gap).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

import structlog

from apps.exchange.errors import (
    ExchangeError,
    InvalidOrderError,
    OrderNotFoundError,
    WouldTriggerImmediatelyError,
)
from apps.exchange.filters import QuantizedOrder
from apps.exchange.orders import UNKNOWN, place_order
from apps.monitoring.tracing import submission_attributes, submission_result, traced
from apps.monitoring.trading_metrics import record_submission

from .models import Order
from .services import FillInput, apply_exchange_status, apply_fill, transition_order
from .states import TERMINAL, OrderStatus
from .valuation import fill_rates

logger = logging.getLogger(__name__)

_FULL_TYPES = {"MARKET", "LIMIT", "LIMIT_MAKER"}


@dataclass(frozen=True)
class Submission:
    """What happened to one submitted order. `refused` carries the exchange's error
    when it certainly refused the order (the row is then `rejected`)."""

    order: Order
    refused: ExchangeError | None = None

    @property
    def would_trigger(self) -> bool:
        return isinstance(self.refused, WouldTriggerImmediatelyError)

    @property
    def unknown(self) -> bool:
        return self.order.status == OrderStatus.UNKNOWN


def _gateway(order: Order, gateway):
    if gateway is not None:
        return gateway
    from apps.exchange.for_account import gateway_for_account

    return gateway_for_account(order.account)


def _quantized(order: Order) -> QuantizedOrder:
    reference = order.price or order.stop_price or Decimal(0)
    return QuantizedOrder(
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
        stop_price=order.stop_price,
        notional=order.quantity * reference,
    )


@traced("order.submit", attributes=submission_attributes, result=submission_result)
def submit(order: Order, *, gateway=None, query_first: bool = True) -> Submission:
    """Send `order` (a row written by `create_order`) unless it already left.

    `query_first` looks the client id up before sending (the default: a retried task
    may have sent it already). Raises only for errors that prove nothing was sent and
    are worth retrying (rate limits, an open circuit, a refused connection); the order
    stays `pending` then.
    """
    order = Order.objects.select_related("account").get(pk=order.pk)
    if order.status not in (OrderStatus.PENDING, OrderStatus.UNKNOWN):
        return Submission(order)
    with _order_context(order):
        return _submit(order, gateway, query_first)


def _order_context(order: Order):
    """Every log line while this order is handled names it and its account."""
    return structlog.contextvars.bound_contextvars(
        account_id=order.account_id, order_id=order.pk, client_order_id=order.client_order_id
    )


def _submit(order: Order, gateway, query_first: bool) -> Submission:
    gateway = _gateway(order, gateway)
    try:
        outcome = place_order(
            gateway,
            order.symbol,
            _quantized(order),
            order.client_order_id,
            time_in_force=order.time_in_force or None,
            query_first=query_first or order.status == OrderStatus.UNKNOWN,
            response_type="FULL" if order.order_type in _FULL_TYPES else "RESULT",
        )
    except InvalidOrderError as error:
        order = transition_order(
            order=order, status=OrderStatus.REJECTED, reason=f"{error.exchange_code}: {error}"
        )
        logger.warning("order refused by the exchange", extra={"code": error.exchange_code})
        return record_submission(Submission(order, refused=error))
    if outcome.status == UNKNOWN:
        if order.status != OrderStatus.UNKNOWN:
            order = transition_order(
                order=order, status=OrderStatus.UNKNOWN, reason="; ".join(outcome.notes)
            )
        logger.warning("order outcome unknown: left for reconciliation")
        return record_submission(Submission(order))
    order = apply_report(order, outcome.order or {}, gateway=gateway)
    logger.info("order sent", extra={"status": order.status, "sends": outcome.sends})
    return record_submission(Submission(order))


def apply_report(order: Order, report: dict, *, gateway=None, source: str = "rest") -> Order:
    """Book the exchange's description of `order`: its ids and any fills it lists,
    then its status. Safe to repeat: fills are unique by trade id and older statuses
    are ignored."""
    exchange_id = report.get("orderId")
    list_id = report.get("orderListId")
    if exchange_id is not None and order.exchange_order_id is None:
        order = transition_order(
            order=order,
            status=None,  # the stream may have moved it on meanwhile: never step back
            exchange_order_id=int(exchange_id),
            order_list_id=int(list_id) if list_id not in (None, -1) else None,
        )
    fills = report.get("fills") or []
    time_ms = int(report.get("transactTime") or report.get("updateTime") or 0)
    for fill in fills:
        book_fill(order, _fill_from_report(fill, order, time_ms), gateway=gateway, source=source)
    status = report.get("status")
    if status:
        order.refresh_from_db()
        apply_exchange_status(
            order=order,
            exchange_status=status,
            update_ms=time_ms or (order.exchange_updated_ms or 0),
            exchange_order_id=int(exchange_id) if exchange_id is not None else None,
        )
    order.refresh_from_db()
    return order


def _fill_from_report(fill: dict, order: Order, time_ms: int) -> dict:
    return {
        "id": fill["tradeId"],
        "price": fill["price"],
        "qty": fill["qty"],
        "commission": fill.get("commission", "0"),
        "commissionAsset": fill.get("commissionAsset", ""),
        "time": time_ms,
        "isMaker": False,
    }


def book_fill(order: Order, trade: dict, *, gateway=None, source: str = "rest"):
    """Book one trade of `order` in `myTrades` shape (id, price, qty, quoteQty,
    commission, commissionAsset, time, isMaker); idempotent by trade id."""
    from apps.marketdata.models import Symbol

    account = order.account
    symbol = Symbol.objects.get(environment=account.environment, name=order.symbol)
    price = Decimal(str(trade["price"]))
    commission_asset = trade.get("commissionAsset") or ""
    quote_rate, commission_rate = fill_rates(
        environment=account.environment,
        base=symbol.base_asset,
        quote=symbol.quote_asset,
        valuation=account.valuation_currency,
        commission_asset=commission_asset,
        price=price,
        gateway=gateway,
    )
    return apply_fill(
        order=order,
        fill=FillInput(
            exchange_trade_id=int(trade["id"]),
            side=order.side,
            price=str(trade["price"]),
            quantity=str(trade["qty"]),
            quote_quantity=trade.get("quoteQty"),
            time_ms=int(trade["time"]),
            commission=str(trade.get("commission") or "0"),
            commission_asset=commission_asset,
            commission_rate=commission_rate,
            quote_rate=quote_rate,
            is_maker=bool(trade.get("isMaker")),
            source=source,
        ),
    )


def sync_fills(order: Order, *, gateway=None) -> int:
    """Book every trade the exchange lists for `order` (by exchange order id); returns
    how many were new. For a stream gap or an order whose fills were not reported."""
    order = Order.objects.select_related("account").get(pk=order.pk)
    if order.exchange_order_id is None:
        return 0
    gateway = _gateway(order, gateway)
    trades = gateway.request(
        "GET",
        "/api/v3/myTrades",
        {"symbol": order.symbol, "orderId": order.exchange_order_id},
        signed=True,
    )
    return sum(1 for trade in trades if book_fill(order, trade, gateway=gateway)[1])


def refresh(order: Order, *, gateway=None) -> Order:
    """Ask the exchange for the order by client id and book its status and trades."""
    order = Order.objects.select_related("account").get(pk=order.pk)
    gateway = _gateway(order, gateway)
    try:
        report = gateway.query_order(order.symbol, order.client_order_id)
    except OrderNotFoundError:
        return order
    order = apply_report(order, report, gateway=gateway)
    if Decimal(str(report.get("executedQty", "0"))) > order.executed_quantity:
        sync_fills(order, gateway=gateway)
        order = apply_report(order, report, gateway=gateway)
    return order


def cancel(order: Order, *, gateway=None, reason: str = "") -> Order:
    """Cancel an open order by client id. An order that is already closed on the
    exchange (-2011 unknown order) is refreshed instead, so a fill is never missed."""
    order = Order.objects.select_related("account").get(pk=order.pk)
    if order.status in TERMINAL:
        return order
    with _order_context(order):
        return _cancel(order, gateway, reason)


def _cancel(order: Order, gateway, reason: str) -> Order:
    gateway = _gateway(order, gateway)
    try:
        report = gateway.cancel_order(order.symbol, order.client_order_id)
    except (OrderNotFoundError, InvalidOrderError) as error:
        logger.info(
            "cancel refused; refreshing the order",
            extra={"client_order_id": order.client_order_id, "code": error.exchange_code},
        )
        return refresh(order, gateway=gateway)
    if reason:
        order = transition_order(order=order, status=None, reason=reason)
    order = apply_report(order, report, gateway=gateway)
    if Decimal(str(report.get("executedQty", "0"))) > order.executed_quantity:
        sync_fills(order, gateway=gateway)
    order.refresh_from_db()
    return order
