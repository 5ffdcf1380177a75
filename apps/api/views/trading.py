"""The trading records (orders, fills, trades, cash flows, equity, decisions), strategy
configurations and KPIs.

Records are read-only here: the trading core writes them. Strategy configurations
are written through `apps.strategies.services` (validated against the strategy's
parameter schema, audited); new ones start paused.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import ExchangeAccount
from apps.accounts.roles import Action
from apps.core.errors import NotFound, ValidationError
from apps.marketdata.intervals import Interval
from apps.strategies import services as strategy_services
from apps.strategies.models import StrategyConfig
from apps.trading.models import (
    CashFlow,
    Decision,
    EquitySnapshot,
    Fill,
    Intent,
    Order,
    Side,
    Trade,
)
from apps.trading.states import OrderStatus

from ..filters import Filter
from ..kpis import compute_kpis
from ..serializers.trading import (
    CashFlowSerializer,
    DecisionSerializer,
    EquitySnapshotSerializer,
    FillSerializer,
    KpiSerializer,
    OrderSerializer,
    ReasonSerializer,
    StrategyConfigCreateSerializer,
    StrategyConfigSerializer,
    StrategyConfigUpdateSerializer,
    TradeSerializer,
)
from .base import ApiViewMixin, ScopedViewSet
from .rows_in_sql import RowsInSqlListMixin

TRADE = "trade"

ACCOUNT = Filter("account_id", "int", description="Exchange account id.")
CONFIG = Filter("strategy_config_id", "int", description="Strategy configuration id.")
SYMBOL = Filter("symbol", description="Symbol, e.g. BTCUSDT.")


def _period(field: str) -> dict[str, Filter]:
    return {
        "since": Filter(f"{field}__gte", "datetime", description=f"{field} at or after."),
        "until": Filter(f"{field}__lt", "datetime", description=f"{field} before."),
    }


def valid(serializer_class, request, view) -> dict:
    serializer = serializer_class(data=request.data, context=view.get_serializer_context())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReadOnlyScopedViewSet(RowsInSqlListMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    pass


class OrderViewSet(ReadOnlyScopedViewSet):
    """Orders of the caller's accounts, newest first by default."""

    model = Order
    serializer_class = OrderSerializer
    ordering_fields = ["id", "created_at", "updated_at"]
    filters = {
        "account": ACCOUNT,
        "strategy_config": CONFIG,
        "position": Filter("position_id", "int", description="Position id."),
        "symbol": SYMBOL,
        "status": Filter("status", "choice", tuple(OrderStatus.values), "Order status."),
        "intent": Filter("intent", "choice", tuple(Intent.values), "What the order is for."),
        "side": Filter("side", "choice", tuple(Side.values), "BUY or SELL."),
        "needs_review": Filter("needs_review", "bool", description="Flagged for review."),
        "client_order_id": Filter("client_order_id", description="Exact client order id."),
        **_period("created_at"),
    }


class FillViewSet(ReadOnlyScopedViewSet):
    model = Fill
    serializer_class = FillSerializer
    ordering_fields = ["id", "executed_at"]
    filters = {
        "account": ACCOUNT,
        "order": Filter("order_id", "int", description="Order id."),
        "position": Filter("position_id", "int", description="Position id."),
        "symbol": SYMBOL,
        "side": Filter("side", "choice", tuple(Side.values), "BUY or SELL."),
        **_period("executed_at"),
    }


class TradeViewSet(ReadOnlyScopedViewSet):
    """Closed round trips."""

    model = Trade
    serializer_class = TradeSerializer
    ordering_fields = ["id", "closed_at", "realized_pnl_value"]
    filters = {
        "account": ACCOUNT,
        "strategy_config": CONFIG,
        "symbol": SYMBOL,
        **_period("closed_at"),
    }


class CashFlowViewSet(ReadOnlyScopedViewSet):
    """Deposits, withdrawals, transfers and reconciliation adjustments."""

    model = CashFlow
    serializer_class = CashFlowSerializer
    ordering_fields = ["id", "occurred_at"]
    filters = {
        "account": ACCOUNT,
        "kind": Filter("kind", "choice", tuple(CashFlow.Kind.values), "Kind of flow."),
        "asset": Filter("asset", description="Asset, e.g. USDT."),
        **_period("occurred_at"),
    }


class EquityViewSet(ReadOnlyScopedViewSet):
    """The equity curve: snapshots of each account's equity (valuation currency)."""

    model = EquitySnapshot
    serializer_class = EquitySnapshotSerializer
    ordering_fields = ["taken_at"]
    ordering = ["-taken_at"]
    filters = {"account": ACCOUNT, **_period("taken_at")}


class DecisionViewSet(ReadOnlyScopedViewSet):
    """Every evaluation with its inputs, indicator values, signal and risk verdict. The
    table is partitioned by month of `created_at`: a `since`/`until` range reads only
    the months it spans; pages follow `created_at`."""

    model = Decision
    serializer_class = DecisionSerializer
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    filters = {
        "account": ACCOUNT,
        "strategy_config": CONFIG,
        "symbol": SYMBOL,
        "signal": Filter("signal", description="Signal, e.g. buy, sell, hold."),
        "outcome": Filter("outcome", description="Risk outcome, e.g. accepted, rejected."),
        **_period("created_at"),
    }


class StrategyConfigViewSet(ReadOnlyScopedViewSet):
    """Strategy configurations: which strategy runs for an account, on what, with which
    parameters. Writes need the trader role (token scope `trade`)."""

    model = StrategyConfig
    serializer_class = StrategyConfigSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["id", "name", "created_at"]
    filters = {
        "account": ACCOUNT,
        "strategy": Filter("strategy", description="Strategy key."),
        "interval": Filter("interval", "choice", tuple(Interval.values), "Candle interval."),
        "enabled": Filter("enabled", "bool", description="true: running; false: paused."),
    }
    action_scopes = {"create": TRADE, "partial_update": TRADE, "pause": TRADE, "resume": TRADE}

    @extend_schema(
        request=StrategyConfigCreateSerializer, responses={201: StrategyConfigSerializer}
    )
    def create(self, request):
        """A new configuration, paused until resumed; parameters are checked against the
        strategy's schema (each broken rule under `params.<name>`)."""
        config = strategy_services.create_strategy_config(
            actor=self.actor, **valid(StrategyConfigCreateSerializer, request, self)
        )
        return Response(StrategyConfigSerializer(config).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StrategyConfigUpdateSerializer, responses=StrategyConfigSerializer)
    def partial_update(self, request, pk=None):
        """Change the name, symbols, interval, parameters or risk profile."""
        config = strategy_services.update_strategy_config(
            actor=self.actor,
            config=self.get_object(),
            **valid(StrategyConfigUpdateSerializer, request, self),
        )
        return Response(StrategyConfigSerializer(config).data)

    def _toggle(self, service, **kwargs):
        config = self.get_object()
        service(actor=self.actor, config=config, **kwargs)
        config.refresh_from_db()
        return Response(StrategyConfigSerializer(config).data)

    @extend_schema(request=ReasonSerializer, responses=StrategyConfigSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Stop evaluating (open positions keep their protection); repeat: no change."""
        reason = valid(ReasonSerializer, request, self)["reason"]
        return self._toggle(strategy_services.pause_strategy_config, reason=reason)

    @extend_schema(request=None, responses=StrategyConfigSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Evaluate again (the parameters must still pass the strategy's schema)."""
        return self._toggle(strategy_services.resume_strategy_config)


class KpiViewSet(ApiViewMixin, viewsets.ViewSet):
    """KPIs of an account (optionally one strategy configuration) over a period."""

    lookup_field = "account"
    lookup_value_regex = r"[0-9]{1,18}"
    filters = {
        "strategy_config": Filter(
            "strategy_config_id", "int", description="Only this configuration's trades and fills."
        ),
        "since": Filter("since", "datetime", description="Start (default: 30 days ago)."),
        "until": Filter("until", "datetime", description="End (default: now)."),
    }
    DEFAULT_DAYS = 30

    def _param(self, name):
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return None
        return self.filters[name].parse(name, raw)

    @extend_schema(
        responses=KpiSerializer,
        parameters=[
            OpenApiParameter("account", int, OpenApiParameter.PATH, description="Account id."),
            OpenApiParameter(
                "strategy_config", int, description=filters["strategy_config"].description
            ),
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description=filters["since"].description
            ),
            OpenApiParameter(
                "until", OpenApiTypes.DATETIME, description=filters["until"].description
            ),
        ],
    )
    def retrieve(self, request, account=None):
        account_row = (
            ExchangeAccount.objects.for_user(request.user, Action.VIEW).filter(pk=account).first()
        )
        if account_row is None:
            raise NotFound(_("No such account among those you may see."))
        until = self._param("until") or timezone.now()
        since = self._param("since")
        if since is None:
            try:
                since = until - timedelta(days=self.DEFAULT_DAYS)
            except OverflowError:  # `until` in year 1: no 30 days before it
                raise ValidationError("until", "must be a later date-time") from None
        if since >= until:
            raise ValidationError("since", "must be before until")
        config_id = self._param("strategy_config")
        if (
            config_id is not None
            and not StrategyConfig.objects.filter(pk=config_id, account=account_row).exists()
        ):
            raise ValidationError("strategy_config", "must be a configuration of this account")
        kpis = compute_kpis(
            account_id=account_row.pk, since=since, until=until, strategy_config_id=config_id
        )
        return Response(KpiSerializer(kpis.as_dict()).data)
