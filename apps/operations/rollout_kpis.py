"""The KPI comparison of a rollout: the candidate group (canaries, or the paper
candidate) beside the baseline (the controls), each member measured with the same KPIs
as the go-live checklist (`apps.trading.kpis`) since the rollout started.

Group totals: counts and gross sums add up; rates are recomputed from the sums; the
drawdown is the worst member's; Sharpe is the members' mean (their accounts differ)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from apps.trading.kpis import INFINITY, PeriodKpis, paper_kpis

from .models import MemberRole

D = Decimal
_PLACES = D("0.000001")
METRICS = (
    "configs", "trades", "win_rate", "profit_factor", "gross_profit", "gross_loss",
    "max_drawdown", "sharpe", "orders", "error_rate",
)  # fmt: skip


def _ratio(numerator, denominator) -> Decimal | None:
    return (D(numerator) / D(denominator)).quantize(_PLACES) if denominator else None


def combine(members: list[PeriodKpis]) -> dict:
    trades = sum(k.trades for k in members)
    wins = sum(k.wins for k in members)
    profit = sum((k.gross_profit for k in members), D(0))
    loss = sum((k.gross_loss for k in members), D(0))
    orders = sum(k.orders for k in members)
    errored = sum(k.errored_orders for k in members)
    drawdowns = [k.max_drawdown for k in members if k.max_drawdown is not None]
    sharpes = [k.sharpe for k in members if k.sharpe is not None]
    if not trades:
        factor = None
    elif loss == 0:
        factor = INFINITY if profit > 0 else None
    else:
        factor = (profit / loss).quantize(_PLACES)
    return {
        "configs": len(members),
        "trades": trades,
        "win_rate": _ratio(wins, trades),
        "profit_factor": factor,
        "gross_profit": profit,
        "gross_loss": loss,
        "max_drawdown": max(drawdowns) if drawdowns else None,
        "sharpe": (sum(sharpes) / len(sharpes)).quantize(_PLACES) if sharpes else None,
        "orders": orders,
        "error_rate": _ratio(errored, orders),
    }


def _plain(value):
    if isinstance(value, Decimal):
        return "Infinity" if value.is_infinite() else str(value)
    return value


def compare(rollout, until=None) -> dict:
    """{"since", "until", "candidate": {metric: value}, "baseline": {...}} as plain JSON."""
    until = until or rollout.finished_at or timezone.now()
    groups = {"candidate": [], "baseline": []}
    for member in rollout.members.select_related("config"):
        group = "baseline" if member.role == MemberRole.CONTROL else "candidate"
        groups[group].append(
            paper_kpis(
                account_id=member.config.account_id,
                config_id=member.config_id,
                since=rollout.created_at,
                until=until,
            )
        )
    result = {"since": rollout.created_at.isoformat(), "until": until.isoformat()}
    for group, members in groups.items():
        result[group] = {k: _plain(v) for k, v in combine(members).items()}
    return result
