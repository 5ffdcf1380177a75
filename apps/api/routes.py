"""The v1 router: one place that lists every resource.

`register_core` holds what exists today. The trading resources (orders, fills,
positions, trades, cash flows, decisions, equity, KPIs, strategy configs) join through
`apps/api/trading_routes.py`: add viewsets there and they are routed, documented in
the schema and swept for tenancy without touching this file.
"""

from rest_framework.routers import DefaultRouter

from . import trading_routes
from .views.accounts import ExchangeAccountViewSet, KeyPairViewSet
from .views.catalogue import AlertViewSet, AuditEventViewSet, RiskProfileViewSet, StrategyViewSet
from .views.market import LiquidityViewSet
from .views.tenancy import MembershipViewSet, OrganizationViewSet
from .views.tokens import ApiTokenViewSet


class Router(DefaultRouter):
    include_format_suffixes = False  # one representation: JSON


def register_core(router: DefaultRouter) -> None:
    router.register("organizations", OrganizationViewSet, basename="organization")
    router.register("memberships", MembershipViewSet, basename="membership")
    router.register("exchange-accounts", ExchangeAccountViewSet, basename="exchange-account")
    router.register("key-pairs", KeyPairViewSet, basename="key-pair")
    router.register("risk-profiles", RiskProfileViewSet, basename="risk-profile")
    router.register("strategies", StrategyViewSet, basename="strategy")
    router.register("audit-events", AuditEventViewSet, basename="audit-event")
    router.register("alerts", AlertViewSet, basename="alert")
    router.register("tokens", ApiTokenViewSet, basename="token")
    router.register("liquidity", LiquidityViewSet, basename="liquidity")


def build_router() -> DefaultRouter:
    router = Router()
    register_core(router)
    trading_routes.register(router)
    return router
