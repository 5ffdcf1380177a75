"""Reads behind the dashboard pages, always scoped to the user (`for_user`).

Figures are aggregated in SQL (subqueries per account), never by looping over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from apps.accounts.models import ExchangeAccount
from apps.accounts.roles import Action
from apps.accounts.scoping import can
from apps.core.decimals import to_wire
from apps.marketdata.models import Candle
from apps.marketdata.times import datetime_to_ms
from apps.monitoring.models import Alert
from apps.risk.engine.config import RiskConfig
from apps.strategies.engine.errors import ParameterErrors
from apps.strategies.models import StrategyConfig
from apps.trading.models import Decision, EquitySnapshot, Fill, Order, Position
from apps.trading.states import OrderStatus

RECENT_ROWS = 25
LATEST_ALERTS = 10
CHART_CANDLES = 300
EQUITY_POINTS = 1000
OPEN_ORDER_STATUSES = (OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def day_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def _count(queryset: QuerySet) -> Subquery:
    counted = queryset.order_by().values("account").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _snapshot_value(snapshots: QuerySet, field: str) -> Subquery:
    return Subquery(snapshots.values(field)[:1], output_field=DecimalField())


def accounts_for(user, *, now: datetime) -> QuerySet:
    """The accounts `user` may view, each annotated with its latest equity, today's
    PnL inputs and its open position and order counts."""
    mine = EquitySnapshot.objects.filter(account=OuterRef("pk"))
    latest = mine.order_by("-taken_at")
    # The day opens at the last snapshot before 00:00 UTC, or the first one of the day.
    before_day = mine.filter(taken_at__lt=day_start(now)).order_by("-taken_at")
    first_today = mine.filter(taken_at__gte=day_start(now)).order_by("taken_at")
    return (
        ExchangeAccount.objects.for_user(user, Action.VIEW)
        .select_related("organization")
        .annotate(
            equity=_snapshot_value(latest, "equity"),
            flows=_snapshot_value(latest, "net_flows"),
            open_equity=Coalesce(
                _snapshot_value(before_day, "equity"), _snapshot_value(first_today, "equity")
            ),
            open_flows=Coalesce(
                _snapshot_value(before_day, "net_flows"),
                _snapshot_value(first_today, "net_flows"),
            ),
            open_positions=_count(
                Position.objects.filter(account=OuterRef("pk"), status=Position.Status.OPEN)
            ),
            open_orders=_count(
                Order.objects.filter(account=OuterRef("pk"), status__in=OPEN_ORDER_STATUSES)
            ),
        )
        .order_by("organization__name", "name")
    )


def today_pnl(account) -> Decimal | None:
    """Equity change since the day opened, net of deposits and withdrawals."""
    if account.equity is None or account.open_equity is None:
        return None
    return (account.equity - account.flows) - (account.open_equity - account.open_flows)


def latest_alerts(user, *, limit: int = LATEST_ALERTS) -> list[Alert]:
    return list(Alert.objects.for_user(user, Action.VIEW).select_related("organization")[:limit])


def account_for(user, account_id: int, *, now: datetime) -> ExchangeAccount:
    """One account with the overview's annotations; 404 when `user` may not view it
    (another organization's account looks like one that does not exist)."""
    account = accounts_for(user, now=now).filter(pk=account_id).first()
    if account is None:
        raise Http404
    return account


@dataclass(frozen=True)
class LadderRung:
    gain: Decimal
    fraction: Decimal
    target_price: Decimal
    done: bool


@dataclass(frozen=True)
class PositionView:
    position: Position
    ladder: tuple[LadderRung, ...]
    take_profit_orders: tuple[Order, ...]


def _ladder(position: Position) -> tuple[LadderRung, ...]:
    if position.ladder_canceled:
        return ()
    profile = position.strategy_config.risk_profile
    # The cycle's rule: a config without a profile trades on the engine's defaults.
    try:
        steps = (profile.to_engine_config() if profile else RiskConfig()).exits.ladder
    except ParameterErrors:  # a broken profile shows no ladder; the cycle reports it
        return ()
    return tuple(
        LadderRung(
            gain=step.gain,
            fraction=step.fraction,
            target_price=position.average_entry_price * (1 + step.gain),
            done=index < position.ladder_done,
        )
        for index, step in enumerate(steps)
    )


def open_positions(
    account: ExchangeAccount, *, position_id: int | None = None
) -> list[PositionView]:
    positions = Position.objects.filter(account=account, status=Position.Status.OPEN)
    if position_id is not None:
        positions = positions.filter(pk=position_id)
    positions = positions.select_related("strategy_config__risk_profile").order_by(
        "-opened_at", "-pk"
    )
    take_profits: dict[int, list[Order]] = {}
    for order in Order.objects.filter(
        account=account,
        position__in=positions,
        intent="take_profit",
        status__in=OPEN_ORDER_STATUSES,
    ).order_by("price"):
        take_profits.setdefault(order.position_id, []).append(order)
    return [PositionView(p, _ladder(p), tuple(take_profits.get(p.pk, ()))) for p in positions]


def recent_orders(account: ExchangeAccount, *, limit: int = RECENT_ROWS) -> list[Order]:
    return list(Order.objects.filter(account=account).order_by("-created_at", "-pk")[:limit])


def recent_fills(account: ExchangeAccount, *, limit: int = RECENT_ROWS) -> list[Fill]:
    return list(Fill.objects.filter(account=account).order_by("-executed_at", "-pk")[:limit])


def recent_decisions(account: ExchangeAccount, *, limit: int = RECENT_ROWS) -> list[Decision]:
    return list(
        Decision.objects.filter(account=account)
        .select_related("strategy_config")
        .order_by("-created_at", "-pk")[:limit]
    )


def controls_for(user, account: ExchangeAccount) -> dict[str, bool]:
    """Which controls the page offers; the API checks again when they are used."""
    return {
        "trade": can(user, account, Action.TRADE),
        "kill": can(user, account, Action.KILL),
    }


# --- chart data (wire strings for prices, seconds for times: lightweight-charts' shape) ---


def _seconds(value: datetime) -> int:
    return datetime_to_ms(value) // 1000


def chart_symbol(account: ExchangeAccount) -> tuple[str, str] | None:
    """(symbol, interval) to chart: the newest open position's, else the newest
    position's, else the first symbol a strategy config of the account trades."""
    positions = Position.objects.filter(account=account).select_related("strategy_config")
    chosen = (
        positions.filter(status=Position.Status.OPEN).order_by("-opened_at").first()
        or positions.order_by("-opened_at").first()
    )
    if chosen is not None:
        return chosen.symbol, chosen.strategy_config.interval
    for config in StrategyConfig.objects.filter(account=account).order_by("-enabled", "pk"):
        if config.symbols:
            return config.symbols[0], config.interval
    return None


def candle_series(account: ExchangeAccount, symbol: str, interval: str) -> list[dict]:
    rows = (
        Candle.objects.filter(
            symbol__environment=account.environment, symbol__name=symbol, interval=interval
        )
        .order_by("-open_time")
        .values_list("open_time", "open", "high", "low", "close")[:CHART_CANDLES]
    )
    return [
        {
            "time": _seconds(t),
            "open": to_wire(o),
            "high": to_wire(h),
            "low": to_wire(lo),
            "close": to_wire(c),
        }
        for t, o, h, lo, c in reversed(rows)
    ]


def fill_markers(account: ExchangeAccount, symbol: str, *, since: datetime | None) -> list[dict]:
    fills = Fill.objects.filter(account=account, symbol=symbol)
    if since is not None:
        fills = fills.filter(executed_at__gte=since - timedelta(days=1))
    return [
        {"time": _seconds(at), "side": side, "price": to_wire(price), "quantity": to_wire(qty)}
        for at, side, price, qty in fills.order_by("executed_at", "pk").values_list(
            "executed_at", "side", "price", "quantity"
        )[:CHART_CANDLES]
    ]


def equity_series(account: ExchangeAccount) -> list[dict]:
    rows = (
        EquitySnapshot.objects.filter(account=account)
        .order_by("-taken_at")
        .values_list("taken_at", "equity")[:EQUITY_POINTS]
    )
    return [{"time": _seconds(t), "value": to_wire(v)} for t, v in reversed(rows)]


def chart_data(account: ExchangeAccount) -> dict:
    chosen = chart_symbol(account)
    candles: list[dict] = []
    markers: list[dict] = []
    if chosen is not None:
        candles = candle_series(account, *chosen)
        since = datetime.fromtimestamp(candles[0]["time"], tz=UTC) if candles else None
        markers = fill_markers(account, chosen[0], since=since)
    return {
        "symbol": chosen[0] if chosen else None,
        "interval": chosen[1] if chosen else None,
        "candles": candles,
        "markers": markers,
        "equity": equity_series(account),
    }
