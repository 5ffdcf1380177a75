"""Hook for the trading resources, added by the trading part of the API.

Register viewsets here (subclass `apps.api.views.base.ScopedViewSet`, set `model`,
`serializer_class`, `filters`, `ordering_fields`, and `action_scopes` for writes such
as manual closes, which need the `trade` token scope):

    router.register("orders", OrderViewSet, basename="order")
    router.register("fills", FillViewSet, basename="fill")
    router.register("positions", PositionViewSet, basename="position")
    router.register("decisions", DecisionViewSet, basename="decision")
    router.register("equity", EquityViewSet, basename="equity")
    router.register("kpis", KpiViewSet, basename="kpi")

Routes registered here are listed at /api/v1/, appear in the OpenAPI schema (update
the snapshot, see docs/api.md) and join the tenancy sweep automatically.
"""

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Nothing yet: the trading resources arrive with the next part of issue 9."""
