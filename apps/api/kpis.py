"""KPIs of one account (optionally one of its strategy configurations) over a period.

Trade figures are SQL aggregates over the round trips closed in [since, until] (exact
Decimals); fees are summed over the period's fills. The equity figures read the
account's snapshots once into numpy (the vector helpers of `apps.trading.kpis`):

- win rate: trades with realized PnL (valuation currency) > 0 / trades;
- profit factor: gross profit / gross loss ("Infinity" without a loss);
- expectancy: mean realized PnL per trade; net PnL: their sum;
- average trade duration: mean of closed_at - opened_at, in whole seconds;
- fees paid: sum of commission_quote x quote_rate of the fills (valuation currency);
- Sharpe: mean / sample standard deviation of daily flow-adjusted returns x sqrt(365);
- Sortino: mean / downside deviation x sqrt(365), where the downside deviation is
  sqrt(mean(min(r, 0)^2)) over every daily return (target 0);
- max drawdown: largest fall of the unit value from its running peak (0.25 = 25 %).

Equity belongs to the whole account, so Sharpe, Sortino and drawdown are the account's
even when a strategy configuration is chosen.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, Q, Sum

from apps.trading.kpis import daily_sharpe, equity_units, max_drawdown
from apps.trading.models import Fill, Trade

D = Decimal
ZERO = D(0)
PLACES = D("0.000001")
MONEY = D("0.00000001")
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Kpis:
    account: int
    strategy_config: int | None
    since: datetime
    until: datetime
    trades: int
    wins: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal
    net_pnl: Decimal
    average_trade_seconds: int | None
    fees_paid: Decimal
    sharpe: Decimal | None
    sortino: Decimal | None
    max_drawdown: Decimal | None
    equity_snapshots: int

    def as_dict(self) -> dict:
        def plain(value):
            if isinstance(value, Decimal):
                return "Infinity" if value.is_infinite() else str(value)
            return value

        return {name: plain(value) for name, value in asdict(self).items()}


def _rounded(value: float | None) -> Decimal | None:
    if value is None or not math.isfinite(value):
        return None
    return D(repr(value)).quantize(PLACES)


def daily_sortino(days: np.ndarray, units: np.ndarray) -> float | None:
    """Annualised Sortino of the returns between the last unit values of each UTC day."""
    if units.size == 0:
        return None
    last_of_day = np.append(days[1:] != days[:-1], True)
    closes = units[last_of_day]
    if closes.size < 3:
        return None
    returns = closes[1:] / closes[:-1] - 1.0
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside == 0.0:
        return None  # no losing day: the ratio is unbounded, not a number
    return float(np.mean(returns)) / downside * math.sqrt(DAYS_PER_YEAR)


def _trade_figures(trades) -> dict:
    totals = trades.aggregate(
        trades=Count("pk"),
        wins=Count("pk", filter=Q(realized_pnl_value__gt=0)),
        gross_profit=Sum("realized_pnl_value", filter=Q(realized_pnl_value__gt=0)),
        gross_loss=Sum("realized_pnl_value", filter=Q(realized_pnl_value__lt=0)),
        net=Sum("realized_pnl_value"),
        duration=Avg(F("closed_at") - F("opened_at")),
    )
    count = totals["trades"]
    profit = totals["gross_profit"] or ZERO
    loss = -(totals["gross_loss"] or ZERO)
    net = totals["net"] or ZERO
    if not count:
        factor = None
    elif loss == 0:
        factor = D("Infinity") if profit > 0 else None
    else:
        factor = (profit / loss).quantize(PLACES)
    duration = totals["duration"]
    return {
        "trades": count,
        "wins": totals["wins"],
        "win_rate": (D(totals["wins"]) / D(count)).quantize(PLACES) if count else None,
        "profit_factor": factor,
        "expectancy": (net / D(count)).quantize(MONEY) if count else None,
        "gross_profit": profit,
        "gross_loss": loss,
        "net_pnl": net,
        "average_trade_seconds": round(duration.total_seconds()) if duration else None,
    }


def _fees(fills) -> Decimal:
    value = ExpressionWrapper(
        F("commission_quote") * F("quote_rate"),
        output_field=DecimalField(max_digits=40, decimal_places=18),
    )
    total = fills.aggregate(total=Sum(value))["total"] or ZERO
    return total.quantize(MONEY)


def _equity_figures(account_id: int, since: datetime, until: datetime) -> dict:
    days, units = equity_units(account_id, since, until)
    return {
        "sharpe": _rounded(daily_sharpe(days, units)),
        "sortino": _rounded(daily_sortino(days, units)),
        "max_drawdown": _rounded(max_drawdown(units)),
        "equity_snapshots": int(days.size),
    }


def compute_kpis(
    *, account_id: int, since: datetime, until: datetime, strategy_config_id: int | None = None
) -> Kpis:
    """Every KPI of the period; the caller has checked the account is visible."""
    trades = Trade.objects.filter(account_id=account_id, closed_at__gte=since, closed_at__lte=until)
    fills = Fill.objects.filter(
        account_id=account_id, executed_at__gte=since, executed_at__lte=until
    )
    if strategy_config_id is not None:
        trades = trades.filter(strategy_config_id=strategy_config_id)
        fills = fills.filter(order__strategy_config_id=strategy_config_id)
    return Kpis(
        account=account_id,
        strategy_config=strategy_config_id,
        since=since,
        until=until,
        **_trade_figures(trades),
        fees_paid=_fees(fills),
        **_equity_figures(account_id, since, until),
    )
