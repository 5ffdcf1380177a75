"""Optional backtest criteria for the go-live checklist, per organization.

`backtest_checklist_items(request)` returns nothing when the live account's
organization has no enabled criteria. Otherwise it finds the newest done backtest of
the request's strategy, version, parameters, symbols and interval that covers the
required period (and is recent enough), and checks each configured threshold.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Backtest, BacktestCriteria, Status


def _number(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {"inf": float("inf"), "-inf": float("-inf")}.get(value)
    return float(value)


def matching_backtest(request, criteria: BacktestCriteria, *, now=None) -> Backtest | None:
    now = now or timezone.now()
    candidates = Backtest.objects.filter(
        organization_id=criteria.organization_id,
        status=Status.DONE,
        strategy=request.strategy,
        strategy_version=request.strategy_version,
        interval=request.interval,
    ).order_by("-finished_at")
    if criteria.max_age_days is not None:
        candidates = candidates.filter(finished_at__gte=now - timedelta(days=criteria.max_age_days))
    needed = timedelta(days=criteria.min_period_days)
    for backtest in candidates.defer("curve", "trades")[:200]:
        if (
            backtest.params == request.params
            and set(backtest.symbols) == set(request.symbols)
            and backtest.end - backtest.start >= needed
        ):
            return backtest
    return None


def backtest_checklist_items(request, *, now=None) -> list:
    """Checklist items (apps.trading.golive.ChecklistItem) for a GoLiveRequest."""
    from apps.trading.golive import ChecklistItem

    organization_id = request.live_account.organization_id
    criteria = BacktestCriteria.objects.filter(organization_id=organization_id).first()
    if criteria is None or not criteria.enabled:
        return []
    found = matching_backtest(request, criteria, now=now)
    period = _("a done backtest of these parameters over at least %(days)d days") % {
        "days": criteria.min_period_days
    }
    items = [
        ChecklistItem(
            "backtest",
            _("backtest of this configuration"),
            found is not None,
            f"backtest {found.pk} ({found.start:%Y-%m-%d} to {found.end:%Y-%m-%d})"
            if found
            else "none found",
            period,
        )
    ]
    metrics = found.metrics if found else {}
    checks = (
        ("sharpe", _("backtest Sharpe ratio"), criteria.min_sharpe, True),
        ("trades", _("backtest number of trades"), criteria.min_trades, True),
        ("profit_factor", _("backtest profit factor"), criteria.min_profit_factor, True),
        ("max_drawdown", _("backtest maximum drawdown"), criteria.max_drawdown, False),
    )
    for key, label, goal, at_least in checks:
        if goal is None:
            continue
        value = _number(metrics.get(key))
        if value is None:
            items.append(ChecklistItem(f"backtest_{key}", label, False, "no data", f"{goal}"))
            continue
        if at_least:
            met, target = value >= float(goal), f">= {goal}"
        else:  # drawdowns are stored negative; the limit is a positive fraction
            met, target = abs(value) <= float(Decimal(goal)), f"<= {goal}"
        items.append(ChecklistItem(f"backtest_{key}", label, met, f"{value:.4g}", target))
    return items
