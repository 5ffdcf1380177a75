"""The trading resources and actions of API v1 (issue 9's trading part).

Viewsets subclass `apps.api.views.base.ScopedViewSet` (rows from `for_user`), set
`filters`, `ordering_fields`, and `action_scopes` for writes that need only the
`trade` token scope; writes go through the trading and strategies services.

Routes registered here are listed at /api/v1/, appear in the OpenAPI schema (update
the snapshot, see docs/api.md) and join the tenancy sweep automatically.
"""

from rest_framework.routers import DefaultRouter

from .views.actions import (
    ExchangeAccountControlViewSet,
    GoLiveRequestViewSet,
    KillSwitchViewSet,
    PositionViewSet,
)
from .views.trading import (
    CashFlowViewSet,
    DecisionViewSet,
    EquityViewSet,
    FillViewSet,
    KpiViewSet,
    OrderViewSet,
    StrategyConfigViewSet,
    TradeViewSet,
)


def register(router: DefaultRouter) -> None:
    router.register("strategy-configs", StrategyConfigViewSet, basename="strategy-config")
    router.register("orders", OrderViewSet, basename="order")
    router.register("fills", FillViewSet, basename="fill")
    router.register("positions", PositionViewSet, basename="position")
    router.register("trades", TradeViewSet, basename="trade")
    router.register("cash-flows", CashFlowViewSet, basename="cash-flow")
    router.register("equity", EquityViewSet, basename="equity")
    router.register("decisions", DecisionViewSet, basename="decision")
    router.register("kpis", KpiViewSet, basename="kpi")
    router.register("kill-switches", KillSwitchViewSet, basename="kill-switch")
    router.register("go-live-requests", GoLiveRequestViewSet, basename="go-live-request")
    # Same prefix as the accounts' own viewset: only detail actions, no list or detail
    # route of its own (flatten/, resume-halted/).
    router.register(
        "exchange-accounts", ExchangeAccountControlViewSet, basename="exchange-account-control"
    )
    # Backtests (issue 11, helper H6).
    from .views.backtests import BacktestBatchViewSet, BacktestViewSet

    router.register("backtests", BacktestViewSet, basename="backtest")
    router.register("backtest-batches", BacktestBatchViewSet, basename="backtest-batch")
    # Compliance reports (issue 10).
    from .views.compliance import ComplianceReportViewSet

    router.register("compliance-reports", ComplianceReportViewSet, basename="compliance-report")
