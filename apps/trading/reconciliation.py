"""Reconciliation: the exchange's view of an account against the database.

Run at start, after a user-data stream gap and every few minutes (beat), always under
the account's lock so it never races a cycle. In order:

1. `pending`/`unknown` orders are looked up by client id: found, they take the
   exchange's status and fills; not found for longer than the grace period, they never
   reached the exchange and become `rejected` with that reason.
2. Orders open in the database are compared with the exchange's open orders: one the
   exchange closed is refreshed (status and fills), one it filled further gets its
   trades, one it does not know at all is flagged `needs_review`. Exchange orders the
   database does not know are adopted as `external`.
3. Trades (`myTrades`) of every symbol the account trades, from the last trade id the
   previous run saw: a missing fill is booked, and a trade of an unknown order adopts
   that order first.
4. Balances: what the exchange holds against the previous snapshot plus every booked
   fill and cash flow since. A new unexplained difference is recorded as an
   `adjustment` cash flow (never a trade, never a sale) with an alert; positions
   claiming more than the exchange holds are flagged for review.

Nothing is deleted or overwritten: statuses move only through the state machine, fills
are unique by trade id, and every correction is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import ExchangeAccount
from apps.audit.services import record_event
from apps.core.redis import get_redis
from apps.exchange.errors import OrderNotFoundError
from apps.marketdata.models import Symbol
from apps.monitoring.alerts import raise_alert
from apps.monitoring.metrics import RECONCILIATION_MISMATCHES
from apps.strategies.models import StrategyConfig

from .accounting.reserve import unmanaged_reserve
from .adoption import find_or_adopt, find_order
from .execution import apply_report, book_fill, sync_fills
from .locks import AccountLock
from .models import CashFlow, Fill, Order, Position, ReconciliationRun
from .reconcile_plan import (
    ExchangeOrder,
    FillMove,
    balance_changes,
    exchange_balances,
    unexplained,
)
from .services import flag_for_review, record_cash_flow, transition_order
from .states import OrderStatus
from .userdata import protect_new_entry
from .valuation import rate

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
PLACES = Decimal("1e-18")
TRADES_PAGE = 1000
UNCERTAIN = (OrderStatus.PENDING, OrderStatus.UNKNOWN)
OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)
SOURCE = "reconciliation"
SNAPSHOT_ATTEMPTS = 3


def unresolved_after_seconds() -> float:
    """How long a pending/unknown order the exchange does not know may still appear
    (an uncertain send can surface late) before it is declared never sent."""
    return float(getattr(settings, "TRADING_RECONCILE_UNRESOLVED_AFTER_SECONDS", 300))


def trade_pages_per_symbol() -> int:
    """myTrades pages (1,000 trades each) read per symbol and run; the rest next run."""
    return max(1, int(getattr(settings, "TRADING_RECONCILE_TRADE_PAGES", 5)))


@dataclass
class ReconciliationReport:
    run: ReconciliationRun
    counts: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def changed(self) -> bool:
        return any(self.counts.values())


def followed_account_ids() -> list[int]:
    """Accounts worth reconciling: not disabled, with an active key."""
    from apps.accounts.models import AccountStatus, ApiKeyPair, KeyState

    return sorted(
        ApiKeyPair.objects.filter(
            state=KeyState.ACTIVE,
            account__status__in=(AccountStatus.ACTIVE, AccountStatus.PAUSED, AccountStatus.HALTED),
        ).values_list("account_id", flat=True)
    )


def run_reconciliation(account_id: int, *, trigger: str = "schedule", **options):
    """`reconcile_account` under the account's lock (AccountBusy when a cycle holds it
    longer than the lock wait)."""
    account = ExchangeAccount.objects.get(pk=account_id)
    with AccountLock(get_redis(), account.pk):
        return reconcile_account(account, trigger=trigger, **options)


def reconcile_account(
    account: ExchangeAccount,
    *,
    gateway=None,
    trigger: str = "manual",
    unresolved_after: float | None = None,
) -> ReconciliationReport:
    """Compare and correct one account; the caller holds its AccountLock."""
    if gateway is None:
        from apps.exchange.for_account import gateway_for_account

        gateway = gateway_for_account(account)
    grace = unresolved_after_seconds() if unresolved_after is None else unresolved_after
    work = _Reconciliation(account, gateway, trigger, grace)
    try:
        work.resolve_uncertain()
        work.compare_open_orders()
        work.book_missing_trades()
        work.compare_balances()
    except Exception as error:
        work.fail(error)
        raise
    report = work.finish()
    protect_open_positions(account, gateway=gateway)
    return report


def protect_open_positions(account: ExchangeAccount, *, gateway) -> int:
    """Every open position gets its exchange-side stop now: one whose entry was booked
    here (its fills missed by the stream) must not wait for the next candle. Returns
    how many positions were synchronised; a failure is logged and retried next run."""
    from apps.risk.engine import RiskConfig

    from .protection import sync_protection

    done = 0
    positions = Position.objects.filter(account=account, status=Position.Status.OPEN)
    for position in positions.select_related("strategy_config__risk_profile"):
        profile = position.strategy_config.risk_profile
        exits = profile.to_engine_config().exits if profile is not None else RiskConfig().exits
        try:
            sync_protection(position=position, exit_config=exits, gateway=gateway)
            done += 1
        except Exception:
            logger.exception("protection of position %s failed", position.pk)
    return done


class _Reconciliation:
    def __init__(self, account: ExchangeAccount, gateway, trigger: str, grace: float):
        self.account = account
        self.gateway = gateway
        self.grace = timedelta(seconds=grace)
        self.previous = (
            ReconciliationRun.objects.filter(account=account)
            .exclude(status=ReconciliationRun.Status.FAILED)
            .order_by("-started_at", "-pk")
            .first()
        )
        self.run = ReconciliationRun.objects.create(
            account=account, trigger=trigger[:16], status=ReconciliationRun.Status.OK
        )
        self.counts = dict.fromkeys(
            (
                "fills_booked",
                "orders_resolved",
                "orders_refreshed",
                "orders_adopted",
                "adjustments",
                "flagged",
            ),
            0,
        )
        self.findings: list[dict] = []
        self.review = False
        self.open_symbols: set[str] = set()

    # --- findings ---
    def note(self, kind: str, message: str, *, review: bool = False, **details) -> None:
        self.findings.append({"kind": kind, "message": message, **details})
        RECONCILIATION_MISMATCHES.labels(kind=kind).inc()
        if review:
            self.review = True
            self.counts["flagged"] += 1
            raise_alert(
                "warning", f"reconciliation_{kind}", message, account_id=self.account.pk, **details
            )

    def flag(self, order: Order, kind: str, message: str) -> None:
        flag_for_review(order=order, reason=message)
        self.note(
            kind, message, review=True, order_id=order.pk, client_order_id=order.client_order_id
        )

    # --- 1. orders whose sending is uncertain ---
    def resolve_uncertain(self) -> None:
        orders = Order.objects.filter(account=self.account, status__in=UNCERTAIN)
        for order in orders.order_by("created_at", "pk"):
            try:
                report = self.query(order)
            except OrderNotFoundError:
                self.unresolved(order)
                continue
            self.book_report(order, report)
            self.counts["orders_resolved"] += 1
            self.note(
                "order_resolved",
                f"order {order.client_order_id} was {report['status']}",
                client_order_id=order.client_order_id,
            )

    def unresolved(self, order: Order) -> None:
        age = timezone.now() - order.created_at
        if age < self.grace:
            return  # may still be on its way (the exchange can report it late)
        reason = (
            f"not found on the exchange {int(age.total_seconds())}s after it was written: "
            "it was never sent"
        )
        with transaction.atomic():
            transition_order(order=order, status=OrderStatus.REJECTED, reason=reason)
            self.audit("trading.order.resolved", order, {"status": "rejected", "reason": reason})
        self.counts["orders_resolved"] += 1
        self.note(
            "order_never_sent",
            f"order {order.client_order_id}: {reason}",
            client_order_id=order.client_order_id,
        )

    # --- 2. open orders ---
    def compare_open_orders(self) -> None:
        on_exchange = [ExchangeOrder.from_rest(item) for item in self.gateway.open_orders()]
        self.open_symbols = {item.symbol for item in on_exchange}
        by_id = {(item.symbol, item.exchange_order_id): item for item in on_exchange}
        by_client = {item.client_order_id: item for item in on_exchange}
        seen: set[tuple[str, int]] = set()
        orders = Order.objects.filter(account=self.account, status__in=OPEN)
        for order in orders.order_by("created_at", "pk"):
            match = by_id.get((order.symbol, order.exchange_order_id)) or (
                by_client.get(order.client_order_id) if order.exchange_order_id is None else None
            )
            if match is not None:
                seen.add((match.symbol, match.exchange_order_id))
                if match.executed_quantity > order.executed_quantity:
                    self.book_report(order, self.query(order))
                    self.counts["orders_refreshed"] += 1
                continue
            self.closed_on_exchange(order)
        for item in on_exchange:
            if (item.symbol, item.exchange_order_id) in seen or find_order(self.account, item):
                continue
            self.adopt(item)

    def closed_on_exchange(self, order: Order) -> None:
        try:
            report = self.query(order)
        except OrderNotFoundError:
            self.flag(
                order,
                "order_unknown_to_exchange",
                f"order {order.client_order_id} is open here but unknown to the exchange",
            )
            return
        self.book_report(order, report)
        self.counts["orders_refreshed"] += 1
        self.note(
            "order_closed_on_exchange",
            f"order {order.client_order_id} was {report['status']} on the exchange",
            client_order_id=order.client_order_id,
        )

    def adopt(self, item: ExchangeOrder, report: dict | None = None) -> Order | None:
        order = find_or_adopt(self.account, item, source=SOURCE)
        if order is None:
            return None
        self.counts["orders_adopted"] += 1
        self.note(
            "order_adopted",
            f"{item.side} {item.order_type} {item.symbol} #{item.exchange_order_id} "
            "was placed outside Spotdesk: adopted as external",
            exchange_order_id=item.exchange_order_id,
        )
        self.book_report(order, report or self.query(order))
        return order

    # --- 3. trades ---
    def symbols(self) -> set[str]:
        configured = StrategyConfig.objects.filter(account=self.account).values_list(
            "symbols", flat=True
        )
        names = {symbol for symbols in configured for symbol in symbols or []}
        names |= set(Order.objects.filter(account=self.account).values_list("symbol", flat=True))
        names |= self.open_symbols
        return {name.upper() for name in names}

    def book_missing_trades(self) -> int:
        """Book every trade after the watermarks; returns how many trades were read."""
        watermarks = self.run.trade_watermarks
        if not watermarks and self.previous is not None:
            watermarks = dict(self.previous.trade_watermarks)
        seen = 0
        for symbol in sorted(self.symbols()):
            last = int(watermarks.get(symbol, -1))
            for _page in range(trade_pages_per_symbol()):
                trades = self.gateway.request(
                    "GET",
                    "/api/v3/myTrades",
                    {"symbol": symbol, "fromId": last + 1, "limit": TRADES_PAGE},
                    signed=True,
                )
                for trade in trades:
                    self.book_trade(symbol, trade)
                    last = max(last, int(trade["id"]))
                seen += len(trades)
                if len(trades) < TRADES_PAGE:
                    break
            watermarks[symbol] = last  # -1: no trade yet, but this run followed it
        self.run.trade_watermarks = watermarks
        return seen

    def book_trade(self, symbol: str, trade: dict) -> None:
        order = Order.objects.filter(
            account=self.account, symbol=symbol, exchange_order_id=int(trade["orderId"])
        ).first()
        if order is None:
            report = self.gateway.request(
                "GET",
                "/api/v3/order",
                {"symbol": symbol, "orderId": trade["orderId"]},
                signed=True,
            )
            item = ExchangeOrder.from_rest(report)
            order = find_order(self.account, item)
            if order is None:
                order = self.adopt(item, report)
            else:
                self.book_report(order, report)
            if order is None:
                return
        fill, created = book_fill(order, trade, gateway=self.gateway, source=SOURCE)
        if created:
            self.counts["fills_booked"] += 1
            self.note(
                "fill_missing",
                f"trade {symbol} #{trade['id']} was not booked",
                symbol=symbol,
                trade_id=int(trade["id"]),
            )
            protect_new_entry(order, fill, gateway=self.gateway, lock=False)

    # --- exchange reads and bookings ---
    def query(self, order: Order) -> dict:
        if order.exchange_order_id is not None:
            return self.gateway.request(
                "GET",
                "/api/v3/order",
                {"symbol": order.symbol, "orderId": order.exchange_order_id},
                signed=True,
            )
        return self.gateway.query_order(order.symbol, order.client_order_id)

    def book_report(self, order: Order, report: dict) -> Order:
        """The exchange's description of the order, then its trades if some are missing."""
        before = Fill.objects.filter(order=order).count()
        order = apply_report(order, report, gateway=self.gateway, source=SOURCE)
        if Decimal(str(report.get("executedQty", "0"))) > order.executed_quantity:
            sync_fills(order, gateway=self.gateway)
            order = apply_report(order, report, gateway=self.gateway, source=SOURCE)
        self.counts["fills_booked"] += Fill.objects.filter(order=order).count() - before
        return order

    # --- 4. balances ---
    def compare_balances(self) -> None:
        """Balances now against the previous snapshot plus what was booked in between.

        The snapshot must match the trade watermarks exactly, whatever the clocks say:
        balances are read, then the trades after the watermarks; only when no trade
        arrived in between is the snapshot consistent (otherwise read again, and after
        a few tries leave the comparison to the next run)."""
        for _attempt in range(SNAPSHOT_ATTEMPTS):
            answer = self.gateway.account()
            flow_marker = CashFlow.objects.filter(account=self.account).order_by("-pk").first()
            if self.book_missing_trades() == 0:
                break
        else:
            self.note("balances_moving", "trades kept arriving: balances checked next run")
            return
        actual = exchange_balances(answer)
        self.run.balances = {asset: str(amount) for asset, amount in actual.items()}
        self.run.exchange_time_ms = int(answer.get("updateTime") or 0) or (
            self.gateway.exchange_now_ms()
        )
        self.run.last_cash_flow_id = flow_marker.pk if flow_marker else 0
        self.check_reserve(actual)
        previous = (
            ReconciliationRun.objects.filter(account=self.account, last_cash_flow_id__isnull=False)
            .exclude(status=ReconciliationRun.Status.FAILED)
            .exclude(pk=self.run.pk)
            .order_by("-started_at", "-pk")
            .first()
        )
        if previous is None:
            return  # the first snapshot: later runs compare against it
        differences = unexplained(
            actual=actual,
            baseline={asset: Decimal(v) for asset, v in previous.balances.items()},
            explained=self.explained(previous),
            adjusted={},
        )
        for asset, amount in differences.items():
            self.adjust(asset, amount)

    def explained(self, previous: ReconciliationRun) -> dict[str, Decimal]:
        """What booked fills and recorded flows moved between two snapshots. A symbol
        the previous run did not follow counts no fills: its history up to then is in
        the previous balances, and a trade of it since shows as a difference."""
        window = Q(pk__in=[])
        for symbol, last in self.run.trade_watermarks.items():
            if symbol in previous.trade_watermarks:
                start = int(previous.trade_watermarks[symbol])
                window |= Q(
                    symbol=symbol, exchange_trade_id__gt=start, exchange_trade_id__lte=int(last)
                )
        fills = Fill.objects.filter(window, account=self.account)
        assets = {
            s.name: (s.base_asset, s.quote_asset)
            for s in Symbol.objects.filter(
                environment=self.account.environment,
                name__in=set(fills.values_list("symbol", flat=True)),
            )
        }
        moves = [
            FillMove(
                side=f.side,
                base_asset=assets[f.symbol][0],
                quote_asset=assets[f.symbol][1],
                quantity=f.quantity,
                quote_quantity=f.quote_quantity,
                commission=f.commission,
                commission_asset=f.commission_asset,
            )
            for f in fills
        ]
        flows = (
            CashFlow.objects.filter(
                account=self.account,
                pk__gt=previous.last_cash_flow_id,
                pk__lte=self.run.last_cash_flow_id,
            )
            .exclude(kind=CashFlow.Kind.ADJUSTMENT)
            .values_list("asset", "amount")
        )
        return balance_changes(moves, flows)

    def adjust(self, asset: str, amount: Decimal) -> None:
        occurred_at = timezone.now()
        price = rate(
            self.account.environment, asset, self.account.valuation_currency, gateway=self.gateway
        )
        value = (amount * price).quantize(PLACES) if price is not None else ZERO
        with transaction.atomic():
            flow, created = record_cash_flow(
                account=self.account,
                kind=CashFlow.Kind.ADJUSTMENT,
                asset=asset,
                amount=amount,
                value=value,
                occurred_at=occurred_at,
                external_id=f"reconcile:{self.run.pk}:{asset}",
                source=SOURCE,
            )
            if created:
                self.audit(
                    "trading.cash_flow.adjusted",
                    flow,
                    {"asset": asset, "amount": str(amount), "value": str(value)},
                )
        self.counts["adjustments"] += 1
        self.note(
            "balance_unexplained",
            f"{asset} differs by {amount} from what fills and cash flows explain: "
            "recorded as an adjustment",
            review=True,
            asset=asset,
            amount=str(amount),
        )

    def check_reserve(self, actual: dict[str, Decimal]) -> None:
        reserve = unmanaged_reserve(actual, self.attributed())
        self.run.reserve = {asset: str(amount) for asset, amount in reserve.items()}
        for asset, amount in reserve.items():
            if amount < 0:
                self.note(
                    "position_shortfall",
                    f"positions claim {-amount} {asset} more than the exchange holds",
                    review=True,
                    asset=asset,
                    shortfall=str(-amount),
                )

    def attributed(self) -> list[tuple[str, Decimal]]:
        """(asset, quantity) of open positions and of dust not yet carried forward."""
        positions = Position.objects.filter(account=self.account)
        claims = [(p.base_asset, p.quantity) for p in positions.filter(status=Position.Status.OPEN)]
        open_keys = {
            (p.strategy_config_id, p.symbol) for p in positions.filter(status=Position.Status.OPEN)
        }
        latest: dict[tuple[int, str], Position] = {}
        for p in positions.filter(status=Position.Status.CLOSED).order_by("closed_at", "pk"):
            latest[(p.strategy_config_id, p.symbol)] = p
        claims += [
            (p.base_asset, p.dust_quantity)
            for key, p in latest.items()
            if key not in open_keys and p.dust_quantity > 0
        ]
        return claims

    # --- the run's record ---
    def audit(self, action: str, target, changes: dict) -> None:
        record_event(
            action=action,
            organization_id=self.account.organization_id,
            target=target,
            changes={"source": SOURCE, **changes},
        )

    def fail(self, error: Exception) -> None:
        self.run.status = ReconciliationRun.Status.FAILED
        self.run.error = f"{type(error).__name__}: {error}"[:2000]
        self.save()

    def finish(self) -> ReconciliationReport:
        if self.review:
            self.run.status = ReconciliationRun.Status.NEEDS_REVIEW
        elif any(self.counts.values()):
            self.run.status = ReconciliationRun.Status.CORRECTED
        with transaction.atomic():
            self.save()
            if self.run.status != ReconciliationRun.Status.OK:
                self.audit(
                    "trading.reconciliation.corrected",
                    self.run,
                    {"status": self.run.status, "counts": self.counts},
                )
        return ReconciliationReport(run=self.run, counts=dict(self.counts), findings=self.findings)

    def save(self) -> None:
        self.run.counts = self.counts
        self.run.findings = self.findings
        self.run.finished_at = timezone.now()
        self.run.save()
