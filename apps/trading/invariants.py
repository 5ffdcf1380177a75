"""The trading invariants that must hold whatever faults happened: the soak's verdict.

Each check returns the offending rows (plain dicts), so a report can show counts and a
failure can show examples; an empty list means the invariant holds. Checks that
compare with the exchange take an `ExchangeView` read once per account
(`exchange_view`), so the exchange is asked once however many checks run.

The checks are deliberately simpler than the code they judge: sums over rows, not the
accounting engine, so a bug in the engine cannot hide itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Count

from apps.audit.models import chain_for
from apps.audit.verify import verify_chain
from apps.marketdata.models import Symbol

from .models import CashFlow, Decision, Fill, Order, Position
from .states import OrderStatus

ZERO = Decimal(0)
PAGE = 1000
# The paper exchange rounds each order's quote total to 8 decimals (docs/paper-exchange.md).
QUOTE_ROUNDING_PER_ORDER = Decimal("1e-8")


@dataclass(frozen=True)
class ExchangeView:
    """What the exchange says about one account: every order and trade of the symbols
    read, the open orders and the balances (free + locked)."""

    account_id: int
    orders: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)
    open_orders: list[dict] = field(default_factory=list)
    balances: dict[str, Decimal] = field(default_factory=dict)


def exchange_view(account, *, gateway, symbols: Iterable[str]) -> ExchangeView:
    """Read the exchange's side of `account` for `symbols` (paged, complete)."""
    orders, trades, open_orders = [], [], []
    for symbol in sorted(set(symbols)):
        orders += _paged(gateway, "/api/v3/allOrders", symbol, "orderId", "orderId")
        trades += _paged(gateway, "/api/v3/myTrades", symbol, "fromId", "id")
        open_orders += gateway.open_orders(symbol)
    balances = {
        row["asset"]: Decimal(row["free"]) + Decimal(row["locked"])
        for row in gateway.account()["balances"]
    }
    return ExchangeView(account.pk, orders, trades, open_orders, balances)


def _paged(gateway, path: str, symbol: str, cursor: str, key: str) -> list[dict]:
    rows, start = [], 0
    while True:
        params = {"symbol": symbol, "limit": PAGE, cursor: start}
        page = gateway.request("GET", path, params, signed=True)
        rows += page
        if len(page) < PAGE:
            return rows
        start = max(int(row[key]) for row in page) + 1


# --- orders and fills ------------------------------------------------------------------


def duplicate_orders(views: Iterable[ExchangeView], config_ids: Iterable[int]) -> list[dict]:
    """Orders that exist twice: one client id sent twice to the exchange, or two
    entries of one config for one decision."""
    rows = []
    for view in views:
        sent = Counter(order["clientOrderId"] for order in view.orders)
        rows += [
            {"account": view.account_id, "kind": "client id sent twice", "key": client_id,
             "count": count}
            for client_id, count in sent.items() if count > 1
        ]  # fmt: skip
    # (Two rows for one exchange order cannot exist: a unique constraint forbids it.)
    orders = Order.objects.filter(strategy_config_id__in=list(config_ids))
    entries = (
        orders.filter(intent="entry")
        .exclude(decision_id=None)
        .values("strategy_config_id", "decision_id")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
    )
    rows += [
        {"config": row["strategy_config_id"], "kind": "two entries, one decision",
         "key": row["decision_id"], "count": row["count"]}
        for row in entries
    ]  # fmt: skip
    return rows


def missing_fills(views: Iterable[ExchangeView]) -> list[dict]:
    """Exchange trades of the account that no Fill row books."""
    rows = []
    for view in views:
        booked = set(
            Fill.objects.filter(account_id=view.account_id).values_list(
                "exchange_trade_id", "symbol"
            )
        )
        rows += [
            {"account": view.account_id, "symbol": trade["symbol"], "trade": trade["id"],
             "order": trade["orderId"], "qty": trade["qty"]}
            for trade in view.trades if (int(trade["id"]), trade["symbol"]) not in booked
        ]  # fmt: skip
    return rows


# --- positions ---------------------------------------------------------------------------


def base_delta(fill: Fill, base_asset: str) -> Decimal:
    """What one fill adds to the base asset held (a base commission is received less)."""
    commission = fill.commission if fill.commission_asset == base_asset else ZERO
    return fill.quantity - commission if fill.side == "BUY" else -fill.quantity


def position_mismatches(config_ids: Iterable[int]) -> list[dict]:
    """Positions whose quantity (plus dust set aside) is not the sum of their fills
    (plus dust carried in)."""
    rows = []
    positions = Position.objects.filter(strategy_config_id__in=list(config_ids))
    for position in positions.prefetch_related("fills"):
        held = sum((base_delta(f, position.base_asset) for f in position.fills.all()), ZERO)
        expected = held + position.carried_quantity
        recorded = position.quantity + position.dust_quantity
        if recorded != expected:
            rows.append({
                "position": position.pk, "status": position.status,
                "recorded": str(recorded), "fills": str(expected),
            })  # fmt: skip
    return rows


def balance_mismatches(
    views: Iterable[ExchangeView],
    funded: Mapping[int, Mapping[str, Decimal]],
    assets: Iterable[str],
) -> list[dict]:
    """Exchange balances that are not the positions plus the unmanaged reserve.

    Base assets: balance = open positions + dust not carried on + the reserve (what
    the account was funded with, moved only by fills no position owns). Quote
    assets: balance = funding + sales - purchases - quote commissions, within the
    exchange's rounding of each order's quote total. Reconciliation `adjustment`
    cash flows are not counted: they are unexplained differences, the very thing
    this check exists to catch; deposits and withdrawals are.
    """
    rows = []
    for view in views:
        expected = _expected_balances(view.account_id, funded.get(view.account_id, {}))
        slack = QUOTE_ROUNDING_PER_ORDER * _orders_with_fills(view.account_id)
        for asset in sorted(set(assets)):
            have, want = view.balances.get(asset, ZERO), expected["base"].get(asset)
            tolerance = ZERO
            if want is None:
                want, tolerance = expected["quote"].get(asset, ZERO), slack
            if abs(have - want) > tolerance:
                rows.append({
                    "account": view.account_id, "asset": asset, "exchange": str(have),
                    "positions_plus_reserve": str(want),
                })  # fmt: skip
    return rows


def _expected_balances(account_id: int, funded: Mapping[str, Decimal]) -> dict:
    base: dict[str, Decimal] = defaultdict(lambda: ZERO)
    quote: dict[str, Decimal] = defaultdict(lambda: ZERO)
    symbols = {s.name: s for s in Symbol.objects.filter(environment="paper")}
    for position in Position.objects.filter(account_id=account_id):
        # Summed over round trips, carried dust cancels the dust it came from.
        base[position.base_asset] += (
            position.quantity + position.dust_quantity - position.carried_quantity
        )
    for asset, amount in funded.items():
        if asset in base or _is_base(asset, symbols):
            base[asset] += amount
        else:
            quote[asset] += amount
    for fill in Fill.objects.filter(account_id=account_id):
        rules = symbols.get(fill.symbol)
        base_asset = rules.base_asset if rules else ""
        quote_asset = rules.quote_asset if rules else ""
        if fill.position_id is None:  # the reserve moves
            base[base_asset] += base_delta(fill, base_asset)
        sign = -1 if fill.side == "BUY" else 1
        quote[quote_asset] += sign * fill.quote_quantity
        if fill.commission_asset == quote_asset:
            quote[quote_asset] -= fill.commission
    flows = CashFlow.objects.filter(account_id=account_id).exclude(kind="adjustment")
    for flow in flows:
        target = base if flow.asset in base else quote
        target[flow.asset] += flow.amount
    return {"base": base, "quote": quote}


def _is_base(asset: str, symbols: Mapping[str, Symbol]) -> bool:
    return any(s.base_asset == asset for s in symbols.values())


def _orders_with_fills(account_id: int) -> int:
    return Fill.objects.filter(account_id=account_id).values("order_id").distinct().count()


def unprotected_positions(
    views: Iterable[ExchangeView], config_ids: Iterable[int], *, opened_before: datetime
) -> list[dict]:
    """Open positions older than `opened_before` (one cycle ago) with no resting stop
    of their own on the exchange. A position too small to protect (below the symbol's
    minimum notional at its entry price) cannot carry one and is not counted."""
    resting = {
        (view.account_id, order["clientOrderId"])
        for view in views
        for order in view.open_orders
        if order["side"] == "SELL" and order["type"] in ("STOP_LOSS_LIMIT", "STOP_LOSS")
    }
    rows = []
    for position in _protectable_open_positions(config_ids, opened_before=opened_before):
        stops = Order.objects.filter(position=position, intent="stop").values_list(
            "client_order_id", flat=True
        )
        if not any((position.account_id, client_id) in resting for client_id in stops):
            rows.append({
                "position": position.pk, "account": position.account_id,
                "quantity": str(position.quantity), "stop_price": str(position.stop_price),
            })  # fmt: skip
    return rows


def positions_without_a_resting_stop(
    config_ids: Iterable[int], *, opened_before: datetime
) -> set[int]:
    """The database's side of the same question, cheap enough to ask every minute:
    open positions older than `opened_before` whose own stop is not resting (new or
    partly filled) by the platform's records. The soak samples it after every cycle."""
    positions = list(_protectable_open_positions(config_ids, opened_before=opened_before))
    protected = set(
        Order.objects.filter(
            position__in=positions,
            intent="stop",
            status__in=(OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED),
        ).values_list("position_id", flat=True)
    )
    return {position.pk for position in positions} - protected


def _protectable_open_positions(config_ids: Iterable[int], *, opened_before: datetime):
    """Open positions older than `opened_before`, less those too small to carry a stop
    (below the symbol's minimum notional at their entry price)."""
    symbols = {s.name: s for s in Symbol.objects.filter(environment="paper")}
    open_positions = Position.objects.filter(
        strategy_config_id__in=list(config_ids), status="open", opened_at__lt=opened_before
    )
    for position in open_positions:
        rules = symbols.get(position.symbol)
        if rules and position.quantity * position.average_entry_price < rules.min_notional:
            continue
        yield position


# --- audit and decisions ------------------------------------------------------------------


def broken_audit_chains(organization_ids: Iterable[int]) -> list[dict]:
    """Audit chains of these organizations (and the platform's) that fail verification."""
    chains = [chain_for(org_id) for org_id in sorted(set(organization_ids))] + [chain_for(None)]
    rows = []
    for chain in chains:
        report = verify_chain(chain)
        if not report.ok:
            rows.append({"chain": chain, "sequence": report.broken_sequence,
                         "reason": report.reason})  # fmt: skip
    return rows


def candles_without_one_decision(
    config_ids: Iterable[int], *, symbol: str, interval: str, open_times_ms: Iterable[int]
) -> list[dict]:
    """(config, candle) pairs without exactly one completed Decision. A skipped
    evaluation records its reason in that Decision; an attempt that failed records its
    error in one of its own and is retried, so a pair whose attempts all failed has
    its reasons recorded and counts as decided too. Nothing at all, or two completed
    evaluations (a doubled cycle), are violations."""
    ids = list(config_ids)
    opens = [datetime.fromtimestamp(ms / 1000, tz=UTC) for ms in open_times_ms]
    if not ids or not opens:
        return []
    decisions = Decision.objects.filter(
        strategy_config_id__in=ids, symbol=symbol, interval=interval,
        candle_open_time__gte=min(opens), candle_open_time__lte=max(opens),
    )  # fmt: skip
    completed = Counter(
        decisions.filter(error="").values_list("strategy_config_id", "candle_open_time")
    )
    failed = Counter(
        decisions.exclude(error="").values_list("strategy_config_id", "candle_open_time")
    )
    rows = []
    for config_id in ids:
        for opened in opens:
            key = (config_id, opened)
            if completed[key] == 1 or (completed[key] == 0 and failed[key] > 0):
                continue
            rows.append({"config": config_id, "candle": opened.isoformat(),
                         "decisions": completed[key], "failed_attempts": failed[key]})  # fmt: skip
    return rows
