"""Pure pieces of reconciliation: the exchange's order shapes normalised, and the
balance arithmetic that separates what our records explain from what they do not.

No Django and no I/O: the services in `reconciliation.py` and `userdata.py` feed these
with rows and exchange answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


def _decimal(value) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def _positive_or_none(value) -> Decimal | None:
    number = _decimal(value)
    return number if number > 0 else None


@dataclass(frozen=True)
class ExchangeOrder:
    """One order as the exchange describes it, whatever the channel."""

    symbol: str
    client_order_id: str
    exchange_order_id: int | None
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: str
    time_in_force: str
    executed_quantity: Decimal
    update_ms: int
    order_list_id: int | None = None

    @classmethod
    def from_rest(cls, report: Mapping) -> ExchangeOrder:
        """`GET /api/v3/order`, `openOrders` and `allOrders` entries."""
        list_id = report.get("orderListId")
        return cls(
            symbol=report["symbol"],
            client_order_id=report.get("clientOrderId") or "",
            exchange_order_id=int(report["orderId"]),
            side=report["side"],
            order_type=report["type"],
            quantity=_decimal(report.get("origQty")),
            price=_positive_or_none(report.get("price")),
            stop_price=_positive_or_none(report.get("stopPrice")),
            status=report["status"],
            time_in_force=report.get("timeInForce") or "",
            executed_quantity=_decimal(report.get("executedQty")),
            update_ms=int(report.get("updateTime") or report.get("time") or 0),
            order_list_id=int(list_id) if list_id not in (None, -1) else None,
        )

    @classmethod
    def from_execution_report(cls, event: Mapping) -> ExchangeOrder:
        """An `executionReport`: a cancel's `c` is the cancel request's id and `C` the
        order's own, so the order is known by `C` when it is set."""
        list_id = event.get("g")
        return cls(
            symbol=event["s"],
            client_order_id=event.get("C") or event["c"],
            exchange_order_id=int(event["i"]),
            side=event["S"],
            order_type=event["o"],
            quantity=_decimal(event.get("q")),
            price=_positive_or_none(event.get("p")),
            stop_price=_positive_or_none(event.get("P")),
            status=event["X"],
            time_in_force=event.get("f") or "",
            executed_quantity=_decimal(event.get("z")),
            update_ms=int(event.get("T") or event.get("E") or 0),
            order_list_id=int(list_id) if list_id not in (None, -1) else None,
        )


_STOP_TYPES = {"STOP_LOSS", "STOP_LOSS_LIMIT"}
_TAKE_PROFIT_TYPES = {"TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}
# Only these carry a time in force on our rows.
_TIME_IN_FORCE_TYPES = {"LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}


def adoption_intent(order: ExchangeOrder) -> str:
    """The intent an adopted order is filed under. It never drives a strategy (an
    external order attributes nothing); it only makes the admin list readable."""
    if order.order_type in _STOP_TYPES:
        return "stop"
    if order.order_type in _TAKE_PROFIT_TYPES:
        return "take_profit"
    return "entry" if order.side == "BUY" else "exit"


def adoption_time_in_force(order: ExchangeOrder) -> str:
    return order.time_in_force if order.order_type in _TIME_IN_FORCE_TYPES else ""


def adopted_client_id(order: ExchangeOrder, *, taken: bool) -> str:
    """The client id an adopted order is stored under: its own, unless one of our
    older orders still holds it (Binance frees a client id once its order closed)."""
    if order.client_order_id and not taken:
        return order.client_order_id
    return f"ext-{order.symbol}-{order.exchange_order_id}"[:36]


# --- balances ---------------------------------------------------------------------------


def exchange_balances(account: Mapping) -> dict[str, Decimal]:
    """`GET /api/v3/account` balances: free + locked per asset (zeros left out)."""
    totals: dict[str, Decimal] = {}
    for entry in account.get("balances", []):
        total = _decimal(entry.get("free")) + _decimal(entry.get("locked"))
        if total:
            totals[entry["asset"]] = total
    return totals


@dataclass(frozen=True)
class FillMove:
    """What one booked fill did to the balances."""

    side: str
    base_asset: str
    quote_asset: str
    quantity: Decimal
    quote_quantity: Decimal
    commission: Decimal = ZERO
    commission_asset: str = ""


def _add(totals: dict[str, Decimal], asset: str, amount: Decimal) -> None:
    if asset and amount:
        totals[asset] = totals.get(asset, ZERO) + amount


def balance_changes(
    fills: Iterable[FillMove], flows: Iterable[tuple[str, Decimal]] = ()
) -> dict[str, Decimal]:
    """Per asset, what `fills` and external `flows` (asset, amount) moved: a buy
    brings base and spends quote, a sell the reverse, a commission leaves in its asset."""
    totals: dict[str, Decimal] = {}
    for fill in fills:
        sign = 1 if fill.side == "BUY" else -1
        _add(totals, fill.base_asset, sign * fill.quantity)
        _add(totals, fill.quote_asset, -sign * fill.quote_quantity)
        _add(totals, fill.commission_asset, -fill.commission)
    for asset, amount in flows:
        _add(totals, asset, amount)
    return totals


def unexplained(
    *,
    actual: Mapping[str, Decimal],
    baseline: Mapping[str, Decimal],
    explained: Mapping[str, Decimal],
    adjusted: Mapping[str, Decimal],
    tolerance: Mapping[str, Decimal] | None = None,
) -> dict[str, Decimal]:
    """Per asset, the difference that still needs an adjustment now.

    The gap `actual - (baseline + explained)` is what our fills and flows cannot
    account for since the baseline snapshot; `adjusted` is what was already recorded
    for it since then (empty when the baseline is the previous run's snapshot). A flow
    recorded late, after a run adjusted for it, makes the next gap negative, so the
    adjustments correct themselves. Differences within `tolerance` are left out.
    """
    tolerance = tolerance or {}
    assets = set(actual) | set(baseline) | set(explained) | set(adjusted)
    result: dict[str, Decimal] = {}
    for asset in sorted(assets):
        gap = actual.get(asset, ZERO) - baseline.get(asset, ZERO) - explained.get(asset, ZERO)
        new = gap - adjusted.get(asset, ZERO)
        if abs(new) > tolerance.get(asset, ZERO):
            result[asset] = new
    return result
