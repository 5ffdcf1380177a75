"""Performance of a paper-trading period: the KPIs the go-live checklist compares with
its targets.

Counts and sums come from SQL aggregates (exact Decimals); the equity series is read
once into numpy for drawdown and Sharpe. Trades and orders are those of one strategy
configuration; equity belongs to the whole account (the only equity there is).

- win rate: winning round trips (realized PnL in the valuation currency > 0) / round trips;
- profit factor: gross profit / gross loss (infinite without a loss, None without trades);
- max drawdown: on unit values, so deposits and withdrawals are neither gains nor losses
  (the vector form of `accounting.flows.unit_values`);
- Sharpe: mean / standard deviation of daily (UTC day, last snapshot of each day)
  flow-adjusted returns, times sqrt(365) (crypto trades every day), risk-free rate 0;
- error rate: rejected orders and orders flagged for review / orders created.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from .models import EquitySnapshot, Order, Trade
from .states import OrderStatus

D = Decimal
ZERO = D(0)
INFINITY = D("Infinity")
_PLACES = D("0.000001")


@dataclass(frozen=True)
class PeriodKpis:
    trades: int
    wins: int
    win_rate: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal
    profit_factor: Decimal | None
    max_drawdown: Decimal | None
    sharpe: Decimal | None
    orders: int
    errored_orders: int
    error_rate: Decimal | None
    snapshots: int
    days_with_equity: int

    def as_dict(self) -> dict:
        return {name: _plain(value) for name, value in self.__dict__.items()}


def _plain(value):
    if isinstance(value, Decimal):
        return "Infinity" if value.is_infinite() else str(value)
    return value


def _rounded(value: float | None) -> Decimal | None:
    if value is None or not math.isfinite(value):
        return None
    return D(repr(value)).quantize(_PLACES)


def trade_kpis(config_id: int, since: datetime, until: datetime) -> dict:
    """Round trips of one config closed in [since, until]: counts and gross sums."""
    totals = Trade.objects.filter(
        strategy_config_id=config_id, closed_at__gte=since, closed_at__lte=until
    ).aggregate(
        trades=Count("pk"),
        wins=Count("pk", filter=Q(realized_pnl_value__gt=0)),
        gross_profit=Sum("realized_pnl_value", filter=Q(realized_pnl_value__gt=0)),
        gross_loss=Sum("realized_pnl_value", filter=Q(realized_pnl_value__lt=0)),
    )
    trades = totals["trades"]
    profit = totals["gross_profit"] or ZERO
    loss = -(totals["gross_loss"] or ZERO)
    if not trades:
        factor = None
    elif loss == 0:
        factor = INFINITY if profit > 0 else None
    else:
        factor = (profit / loss).quantize(_PLACES)
    return {
        "trades": trades,
        "wins": totals["wins"],
        "win_rate": (D(totals["wins"]) / D(trades)).quantize(_PLACES) if trades else None,
        "gross_profit": profit,
        "gross_loss": loss,
        "profit_factor": factor,
    }


def order_kpis(config_id: int, since: datetime, until: datetime) -> dict:
    totals = Order.objects.filter(
        strategy_config_id=config_id, created_at__gte=since, created_at__lte=until
    ).aggregate(
        orders=Count("pk"),
        errored=Count("pk", filter=Q(status=OrderStatus.REJECTED) | Q(needs_review=True)),
    )
    orders = totals["orders"]
    return {
        "orders": orders,
        "errored_orders": totals["errored"],
        "error_rate": (D(totals["errored"]) / D(orders)).quantize(_PLACES) if orders else None,
    }


def unit_series(equity: np.ndarray, net_flows: np.ndarray) -> np.ndarray:
    """Unit value after each snapshot (the first is 1): each step's return excludes the
    flows that arrived since the previous snapshot."""
    if equity.size == 0:
        return equity
    moved = np.diff(net_flows)
    previous = equity[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(previous > 0, (equity[1:] - moved) / previous, 1.0)
    return np.concatenate(([1.0], np.cumprod(steps)))


def max_drawdown(units: np.ndarray) -> float | None:
    if units.size == 0:
        return None
    peaks = np.maximum.accumulate(units)
    return float(np.max((peaks - units) / peaks))


def daily_sharpe(days: np.ndarray, units: np.ndarray) -> float | None:
    """Annualised Sharpe of the day-to-day returns of the last unit value of each UTC day
    (`days`: the UTC day number of each snapshot, ascending)."""
    if units.size == 0:
        return None
    last_of_day = np.append(days[1:] != days[:-1], True)
    closes = units[last_of_day]
    if closes.size < 3:  # at least two daily returns for a standard deviation
        return None
    returns = closes[1:] / closes[:-1] - 1.0
    spread = float(np.std(returns, ddof=1))
    if spread == 0.0:
        return None
    return float(np.mean(returns)) / spread * math.sqrt(365)


def equity_units(account_id: int, since: datetime, until: datetime):
    """(UTC day numbers, unit values) of the account's equity snapshots in the period:
    the unit series takes deposits and withdrawals out (see `unit_series`)."""
    rows = (
        EquitySnapshot.objects.filter(
            account_id=account_id, taken_at__gte=since, taken_at__lte=until
        )
        .annotate(day=TruncDate("taken_at", tzinfo=UTC))
        .order_by("taken_at")
        .values_list("day", "equity", "net_flows")
    )
    table = np.array(list(rows), dtype=object).reshape(-1, 3)
    days = table[:, 0].astype("datetime64[D]").astype(np.int64)
    return days, unit_series(table[:, 1].astype(np.float64), table[:, 2].astype(np.float64))


def equity_kpis(account_id: int, since: datetime, until: datetime) -> dict:
    days, units = equity_units(account_id, since, until)
    return {
        "max_drawdown": _rounded(max_drawdown(units)),
        "sharpe": _rounded(daily_sharpe(days, units)),
        "snapshots": int(days.size),
        "days_with_equity": int(np.unique(days).size),
    }


def paper_kpis(*, account_id: int, config_id: int, since: datetime, until: datetime) -> PeriodKpis:
    """Every KPI of one config on its (paper) account over [since, until]."""
    return PeriodKpis(
        **trade_kpis(config_id, since, until),
        **order_kpis(config_id, since, until),
        **equity_kpis(account_id, since, until),
    )
