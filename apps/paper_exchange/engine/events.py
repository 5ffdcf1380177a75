"""User data events the engine produces, in the order Binance sends them.

The engine records an ``executionReport`` (or ``listStatus``) the moment something happens
to an order, as a snapshot of the order at that moment. Balances changed on the way are
remembered per account; :meth:`EventJournal.drain` appends one ``outboundAccountPosition``
per account after that account's order events, which is where Binance sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from apps.paper_exchange.engine.models import Account, Fill, Order, OrderList
from apps.paper_exchange.numbers import ZERO, fmt

# An engine used without a server (tests, benches) is never drained: forget old events
# rather than grow without bound.
MAX_PENDING = 100_000

# Binance's reject reasons (``r``) for the matching-engine messages that have one.
REJECT_REASONS = {
    "Account has insufficient balance for requested action.": "INSUFFICIENT_BALANCES",
    "Order would trigger immediately.": "STOP_PRICE_WOULD_TRIGGER_IMMEDIATELY",
    "Order would immediately match and take.": "WOULD_MATCH_IMMEDIATELY",
    "The relationship of the prices for the orders is not correct.": "OCO_BAD_PRICES",
}


def execution_report(
    order: Order,
    execution_type: str,
    now: int,
    execution_id: int,
    fill: Fill | None = None,
    cancel_client_id: str | None = None,
    reject_reason: str = "NONE",
) -> dict:
    """An ``executionReport`` of ``order`` as it stands now (every field Binance sends)."""
    canceled = execution_type == "CANCELED"
    event = {
        "e": "executionReport",
        "E": now,
        "s": order.symbol,
        "c": cancel_client_id if canceled and cancel_client_id else order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force or "GTC",
        "q": fmt(order.orig_qty),
        "p": fmt(order.price),
        "P": fmt(order.stop_price),
        "F": fmt(ZERO),
        "g": order.order_list_id,
        "C": order.client_order_id if canceled else "",
        "x": execution_type,
        "X": order.status,
        "r": reject_reason,
        "i": order.order_id,
        "l": fmt(fill.qty if fill else ZERO),
        "z": fmt(order.executed_qty),
        "L": fmt(fill.price if fill else ZERO),
        "n": fmt(fill.commission) if fill else "0",
        "N": fill.commission_asset if fill else None,
        "T": fill.time if fill else now,
        "t": fill.trade_id if fill else -1,
        "I": execution_id,
        "w": order.is_open and order.is_working,
        "m": fill.is_maker if fill else False,
        "M": False,
        "O": order.time,
        "Z": fmt(order.cumm_quote),
        "Y": fmt(fill.quote_qty if fill else ZERO),
        "Q": fmt(order.quote_order_qty),
    }
    if order.working_time != -1:
        event["W"] = order.working_time
    event["V"] = order.stp_mode
    if order.trailing_delta is not None:
        event["d"] = order.trailing_delta
        event["D"] = order.trailing_time
    if order.strategy_id is not None:
        event["j"] = order.strategy_id
    if order.strategy_type is not None:
        event["J"] = order.strategy_type
    if order.status == "EXPIRED" and order.expiry_reason:
        event["eR"] = order.expiry_reason
    return event


def list_status_event(order_list: OrderList, orders: list[Order], now: int) -> dict:
    return {
        "e": "listStatus",
        "E": now,
        "s": order_list.symbol,
        "g": order_list.order_list_id,
        "c": order_list.contingency_type,
        "l": order_list.list_status_type,
        "L": order_list.list_order_status,
        "r": "NONE",
        "C": order_list.list_client_order_id,
        "T": order_list.transaction_time,
        "O": [
            {"s": order.symbol, "i": order.order_id, "c": order.client_order_id} for order in orders
        ],
    }


def account_position(account: Account, assets: set[str], now: int) -> dict:
    balances = []
    for asset in sorted(assets):
        balance = account.balance(asset)
        balances.append({"a": asset, "f": fmt(balance.free), "l": fmt(balance.locked)})
    # The operation that produced these events is the account's last update.
    return {"e": "outboundAccountPosition", "E": now, "u": now, "B": balances}


def balance_update(asset: str, delta: Decimal, now: int) -> dict:
    return {"e": "balanceUpdate", "E": now, "a": asset, "d": fmt(delta), "T": now}


USER_TIME_FIELDS = ("E", "T", "O", "W", "D", "u")


def user_event_in_microseconds(event: dict) -> dict:
    """A user data event with its times in microseconds (``timeUnit=MICROSECOND``)."""
    return {
        key: value * 1000
        if key in USER_TIME_FIELDS and isinstance(value, int) and value > 0
        else value
        for key, value in event.items()
    }


class EventJournal:
    """Events waiting to be delivered, grouped per account in the order they happened."""

    def __init__(self, next_id: Callable[[], int]):
        self._next_id = next_id
        self._events: dict[int, list[dict]] = {}
        self._touched: dict[int, set[str]] = {}
        # The last TRADE report of each order: a fill that completes the order is
        # reported once, as TRADE with status FILLED.
        self._last_trade: dict[tuple[str, int], dict] = {}
        self._pending = 0
        self.enabled = True

    def _add(self, account_id: int, event: dict) -> None:
        if self._pending >= MAX_PENDING:
            self._events.clear()
            self._last_trade.clear()
            self._pending = 0
        self._events.setdefault(account_id, []).append(event)
        self._pending += 1

    def __bool__(self) -> bool:
        return bool(self._events) or bool(self._touched)

    def order(self, order: Order, execution_type: str, now: int, **options) -> dict | None:
        if not self.enabled:
            return None
        event = execution_report(order, execution_type, now, self._next_id(), **options)
        self._add(order.account_id, event)
        if execution_type == "TRADE":
            self._last_trade[(order.symbol, order.order_id)] = event
        return event

    def filled(self, order: Order) -> bool:
        """Mark the last TRADE report of ``order`` FILLED; False when there was none."""
        event = self._last_trade.pop((order.symbol, order.order_id), None)
        if event is None:
            return False
        event["X"] = order.status
        event["w"] = False
        return True

    def order_list(self, order_list: OrderList, orders: list[Order], now: int) -> None:
        if self.enabled:
            self._add(order_list.account_id, list_status_event(order_list, orders, now))

    def balances(self, account_id: int, *assets: str) -> None:
        if self.enabled:
            self._touched.setdefault(account_id, set()).update(assets)

    def raw(self, account_id: int, event: dict) -> None:
        if self.enabled:
            self._add(account_id, event)

    def drain(self, accounts: dict[int, Account], now: int) -> list[tuple[int, dict]]:
        """Every waiting event as (account id, event), positions after order events."""
        delivered: list[tuple[int, dict]] = []
        for account_id in list(dict.fromkeys([*self._events, *self._touched])):
            for event in self._events.get(account_id, []):
                delivered.append((account_id, event))
            assets = self._touched.get(account_id)
            account = accounts.get(account_id)
            if assets and account is not None:
                delivered.append((account_id, account_position(account, assets, now)))
        self._events.clear()
        self._touched.clear()
        self._last_trade.clear()
        self._pending = 0
        return delivered
