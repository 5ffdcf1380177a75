"""The report's content, computed with SQL aggregates over the period [start, end)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum

from apps.audit.models import AuditEvent
from apps.trading.models import CashFlow, Fill, Order, Trade

ZERO = Decimal(0)

# Audit actions per section, by prefix.
EVENT_SECTIONS = {
    "halts_and_kill_switches": ("exchange_account.halted", "exchange_account.unhalted",
                                "exchange_account.paused", "exchange_account.resumed",
                                "kill_switch."),
    "go_live": ("go_live.", "exchange_account.live_approved"),
    "key_changes": ("api_key.", "encryption_keys.", "exchange_account.keys"),
    "access": ("auth.", "staff."),
}  # fmt: skip


@dataclass(frozen=True)
class TradingRow:
    account: str
    symbol: str
    orders: int
    filled_orders: int
    fills: int
    bought: Decimal
    sold: Decimal
    quote_volume: Decimal
    fees_quote: Decimal
    trades: int
    realized_pnl: Decimal  # valuation currency


@dataclass(frozen=True)
class CashFlowRow:
    account: str
    kind: str
    asset: str
    amount: Decimal
    value: Decimal
    count: int


@dataclass(frozen=True)
class EventRow:
    occurred_at: datetime
    action: str
    actor: str
    object_type: str
    object_id: str


@dataclass(frozen=True)
class ReportData:
    trading: list[TradingRow]
    cash_flows: list[CashFlowRow]
    events: dict[str, list[EventRow]]

    def totals(self) -> dict[str, str | int]:
        """The headline figures (stored with the report, shown in admin)."""
        return {
            "orders": sum(r.orders for r in self.trading),
            "fills": sum(r.fills for r in self.trading),
            "trades": sum(r.trades for r in self.trading),
            "quote_volume": str(sum((r.quote_volume for r in self.trading), ZERO)),
            "fees_quote": str(sum((r.fees_quote for r in self.trading), ZERO)),
            "realized_pnl": str(sum((r.realized_pnl for r in self.trading), ZERO)),
            "net_cash_flows": str(sum((r.value for r in self.cash_flows), ZERO)),
            **{f"events_{name}": len(rows) for name, rows in self.events.items()},
        }


def _trading(organization_id: int, start: datetime, end: datetime) -> list[TradingRow]:
    key = ("account__name", "symbol")
    orders = {
        (r["account__name"], r["symbol"]): r
        for r in Order.objects.filter(
            account__organization_id=organization_id, created_at__gte=start, created_at__lt=end
        )
        .values(*key)
        .annotate(n=Count("id"), filled=Count("id", filter=Q(status="filled")))
    }
    fills = {
        (r["account__name"], r["symbol"]): r
        for r in Fill.objects.filter(
            account__organization_id=organization_id, executed_at__gte=start, executed_at__lt=end
        )
        .values(*key)
        .annotate(
            n=Count("id"),
            bought=Sum("quantity", filter=Q(side="BUY")),
            sold=Sum("quantity", filter=Q(side="SELL")),
            volume=Sum("quote_quantity"),
            fees=Sum("commission_quote"),
        )
    }
    trades = {
        (r["account__name"], r["symbol"]): r
        for r in Trade.objects.filter(
            account__organization_id=organization_id, closed_at__gte=start, closed_at__lt=end
        )
        .values(*key)
        .annotate(n=Count("id"), pnl=Sum("realized_pnl_value"))
    }
    rows = []
    for name, symbol in sorted(set(orders) | set(fills) | set(trades)):
        o = orders.get((name, symbol), {})
        f = fills.get((name, symbol), {})
        t = trades.get((name, symbol), {})
        rows.append(
            TradingRow(
                account=name,
                symbol=symbol,
                orders=o.get("n", 0),
                filled_orders=o.get("filled", 0),
                fills=f.get("n", 0),
                bought=f.get("bought") or ZERO,
                sold=f.get("sold") or ZERO,
                quote_volume=f.get("volume") or ZERO,
                fees_quote=f.get("fees") or ZERO,
                trades=t.get("n", 0),
                realized_pnl=t.get("pnl") or ZERO,
            )
        )
    return rows


def _cash_flows(organization_id: int, start: datetime, end: datetime) -> list[CashFlowRow]:
    rows = (
        CashFlow.objects.filter(
            account__organization_id=organization_id, occurred_at__gte=start, occurred_at__lt=end
        )
        .values("account__name", "kind", "asset")
        .annotate(amount=Sum("amount"), value=Sum("value"), n=Count("id"))
        .order_by("account__name", "kind", "asset")
    )
    return [
        CashFlowRow(r["account__name"], r["kind"], r["asset"], r["amount"], r["value"], r["n"])
        for r in rows
    ]


def _events(organization_id: int, start: datetime, end: datetime) -> dict[str, list[EventRow]]:
    from apps.accounts.models import Membership

    members = Membership.objects.filter(organization_id=organization_id).values("user_id")
    sections = {}
    for name, prefixes in EVENT_SECTIONS.items():
        matches = Q()
        for prefix in prefixes:
            matches |= Q(action__startswith=prefix)
        owner = Q(organization_id=organization_id)
        if name == "access":
            # Logins belong to no organization: count those of this organization's members.
            owner |= Q(organization_id__isnull=True, actor_id__in=members)
        rows = (
            AuditEvent.objects.filter(matches, owner, occurred_at__gte=start, occurred_at__lt=end)
            .order_by("occurred_at", "sequence")
            .values_list("occurred_at", "action", "actor_username", "object_type", "object_id")
        )
        sections[name] = [EventRow(*row) for row in rows]
    return sections


def build_report_data(*, organization_id: int, start: datetime, end: datetime) -> ReportData:
    return ReportData(
        trading=_trading(organization_id, start, end),
        cash_flows=_cash_flows(organization_id, start, end),
        events=_events(organization_id, start, end),
    )
