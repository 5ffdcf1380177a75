"""The dashboard's backtest pages: the results of the user's organizations, read through
`Backtest.objects.for_user` (another organization's backtest is a 404), the curves drawn
server-side by `apps.backtest.charts`. Exports stay on the API (/api/v1/backtests/...)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.roles import Action
from apps.backtest.charts import drawdown_svg, equity_svg
from apps.backtest.models import Backtest, Status

from .views import js_strings, verified_session

PAGE_SIZE = 50
EXPORT_FORMATS = ("csv", "xlsx", "pdf")


def _percent(value) -> str:
    return f"{float(value) * 100:.2f}%" if isinstance(value, int | float) else "—"


def _ratio(value) -> str:
    return f"{float(value):.2f}" if isinstance(value, int | float) else "—"


def _count(value) -> str:
    return str(value) if isinstance(value, int) else "—"


@dataclass(frozen=True)
class KeyMetrics:
    """The headline figures as display text ("—" while a backtest has none)."""

    total_return: str
    sharpe: str
    max_drawdown: str
    trades: str

    @classmethod
    def of(cls, backtest: Backtest) -> KeyMetrics:
        m = backtest.metrics or {}
        return cls(
            total_return=_percent(m.get("total_return")),
            sharpe=_ratio(m.get("sharpe")),
            max_drawdown=_percent(m.get("max_drawdown")),
            trades=_count(m.get("trades")),
        )


def backtests_for(user):
    """The user's organizations' backtests, newest first, without the heavy columns."""
    return (
        Backtest.objects.for_user(user, Action.VIEW)
        .select_related("organization")
        .defer("curve", "trades", "monte_carlo")
        .order_by("-created_at", "-pk")
    )


def backtest_strings() -> dict:
    """The page scripts' words, with the status labels static/dashboard/backtest.js
    writes into the badges when a run moves on."""
    strings = js_strings()
    strings["labels"] = strings["labels"] | {"backtest_status": dict(Status.choices)}
    return strings


@require_GET
@never_cache
@verified_session
def backtest_list(request):
    page = Paginator(backtests_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(backtest, KeyMetrics.of(backtest)) for backtest in page.object_list]
    return render(
        request,
        "dashboard/backtests.html",
        {"page": page, "rows": rows, "live": {}, "js_strings": backtest_strings()},
    )


@require_GET
@never_cache
@verified_session
def backtest_row(request, backtest_id: int):
    """One row of the list as the page renders it (metrics and dates formatted alike),
    fetched by static/dashboard/backtest.js when the live channel reports a run finished."""
    backtest = get_object_or_404(backtests_for(request.user), pk=backtest_id)
    return render(
        request,
        "dashboard/_backtest_row.html",
        {"backtest": backtest, "metrics": KeyMetrics.of(backtest)},
    )


@require_GET
@never_cache
@verified_session
def backtest_detail(request, backtest_id: int):
    backtest = get_object_or_404(
        Backtest.objects.for_user(request.user).select_related("organization"), pk=backtest_id
    )
    times, equity = backtest.unpack_curve()
    charts = None
    if equity.size:
        # Our own SVG: every text in it is escaped by charts.line_chart.
        charts = {
            "equity": mark_safe(equity_svg(times, equity)),  # noqa: S308
            "drawdown": mark_safe(drawdown_svg(times, equity)),  # noqa: S308
        }
    done = backtest.status == Status.DONE
    exports = (
        [(fmt.upper(), f"/api/v1/backtests/{backtest.pk}/export/{fmt}/") for fmt in EXPORT_FORMATS]
        if done
        else []
    )
    return render(
        request,
        "dashboard/backtest.html",
        {
            "backtest": backtest,
            "metrics": KeyMetrics.of(backtest),
            "charts": charts,
            "exports": exports,
            "live": {},
            "js_strings": backtest_strings(),
        },
    )
