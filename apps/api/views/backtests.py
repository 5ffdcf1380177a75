"""Backtests and batches (sweep, walk-forward, A/B): create, watch progress, read the
result, export it, start a paper run. Roles are checked by `apps.backtest.services`."""

import numpy as np
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.backtest import exports, services
from apps.backtest.charts import reduce_curve
from apps.backtest.models import Backtest, BacktestBatch, FillMode, Status
from apps.core.errors import ConflictError, ValidationError

from ..filters import Filter
from ..selectors import risk_profiles_for
from ..serializers.backtests import (
    BacktestBatchCreateSerializer,
    BacktestBatchSerializer,
    BacktestCreateSerializer,
    BacktestEquityPointSerializer,
    BacktestSerializer,
    BacktestTradeSerializer,
    PaperRunSerializer,
)
from .base import ScopedViewSet

TRADE = "trade"
_STATUSES = tuple(Status.values)
PaperConfigSerializer = inline_serializer(
    "PaperRunConfig",
    {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "account": serializers.IntegerField(),
        "enabled": serializers.BooleanField(),
    },
)


def _base_fields(data: dict) -> dict:
    """The validated request as `services` keywords (relations as model instances)."""
    names = ("organization", "account", "config", "name", "strategy", "params", "symbols",
             "interval", "environment", "start", "end", "risk_profile", "fill_mode",
             "commission", "slippage", "initial_cash", "backfill")  # fmt: skip
    return {n: data[n] for n in names if data.get(n) is not None}


class BacktestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Backtests of the caller's organizations; `progress` (0-100) and `status` while it
    runs, `metrics` and `monte_carlo` when done. Creating one needs the trader role."""

    model = Backtest
    serializer_class = BacktestSerializer
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["id", "created_at", "finished_at"]
    filters = {
        "organization": Filter("organization_id", "int", description="Organization id."),
        "status": Filter("status", "choice", _STATUSES, "Status."),
        "strategy": Filter("strategy", description="Strategy key."),
        "batch": Filter("batch_id", "int", description="Batch id."),
        "fill_mode": Filter("fill_mode", "choice", tuple(FillMode.values), "Fill model."),
    }
    action_scopes = {"create": TRADE, "paper_run": TRADE}

    def get_queryset(self):
        return super().get_queryset().defer("curve", "trades")

    @extend_schema(request=BacktestCreateSerializer, responses={201: BacktestSerializer})
    def create(self, request):
        """Queue a backtest (trader role in its organization)."""
        serializer = BacktestCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        backtest = services.create_backtest(
            actor=self.actor, **_base_fields(serializer.validated_data)
        )
        return Response(BacktestSerializer(backtest).data, status=status.HTTP_201_CREATED)

    def _done(self) -> Backtest:
        backtest = Backtest.objects.for_user(self.request.user).get(pk=self.get_object().pk)
        if backtest.status != Status.DONE:
            raise ConflictError(f"this backtest is {backtest.status}, not done")
        return backtest

    @extend_schema(
        responses=BacktestEquityPointSerializer(many=True),
        parameters=[OpenApiParameter("points", int, description="At most this many (2-5000).")],
    )
    @action(detail=True, methods=["get"])
    def equity(self, request, pk=None):
        """The equity and drawdown curve, reduced to at most `points` (keeping each
        bucket's low and high)."""
        raw = request.query_params.get("points", "800")
        if not raw.isdigit() or not 2 <= int(raw) <= 5000:
            raise ValidationError("points", "must be a whole number from 2 to 5000")
        times, equity = self._done().unpack_curve()
        drawdown = equity / np.maximum.accumulate(equity) - 1.0 if equity.size else equity
        keep_t, keep_e = reduce_curve(times, equity, max_points=int(raw))
        index = np.searchsorted(times, keep_t)
        rows = [
            {"time": int(t), "equity": float(e), "drawdown": float(drawdown[i])}
            for t, e, i in zip(keep_t, keep_e, index, strict=True)
        ]
        return Response(rows)

    @extend_schema(responses=BacktestTradeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def trades(self, request, pk=None):
        """Every closed trade, oldest first."""
        return Response(BacktestTradeSerializer(self._done().trades, many=True).data)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.FORMATS["xlsx"]): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        }
    )
    @action(detail=True, methods=["get"], url_path=r"export/(?P<fmt>csv|xlsx|pdf)")
    def export(self, request, pk=None, fmt="csv"):
        """Settings, metrics, Monte Carlo intervals and trades as CSV, XLSX or PDF."""
        content, content_type, filename = exports.export(self._done(), fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(request=PaperRunSerializer, responses={201: PaperConfigSerializer})
    @action(detail=True, methods=["post"], url_path="paper-run")
    def paper_run(self, request, pk=None):
        """Create a paused strategy configuration with this result's strategy, parameters,
        symbols and interval on a paper account (trader role there)."""
        serializer = PaperRunSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        config = services.start_paper_run(
            actor=self.actor,
            backtest=self.get_object(),
            account=serializer.validated_data["account"],
            name=serializer.validated_data.get("name"),
        )
        body = {"id": config.pk, "name": config.name, "account": config.account_id,
                "enabled": config.enabled}  # fmt: skip
        return Response(body, status=status.HTTP_201_CREATED)


class BacktestBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Parameter sweeps, walk-forward analyses and A/B comparisons: one run per child
    backtest on the `backtest` queue; `summary` once every run finished."""

    model = BacktestBatch
    serializer_class = BacktestBatchSerializer
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["id", "created_at"]
    filters = {
        "organization": Filter("organization_id", "int", description="Organization id."),
        "kind": Filter("kind", "choice", tuple(BacktestBatch.Kind.values), "Kind."),
        "status": Filter("status", "choice", _STATUSES, "Status."),
    }
    action_scopes = {"create": TRADE}

    def get_queryset(self):
        return super().get_queryset().prefetch_related("runs")

    @extend_schema(request=BacktestBatchCreateSerializer, responses={201: BacktestBatchSerializer})
    def create(self, request):
        """Queue a sweep (`grid`), a walk-forward analysis (`grid`, `folds`, `train_ratio`,
        `anchored`) or an A/B comparison (`variant`) (trader role)."""
        serializer = BacktestBatchCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        variant = data.get("variant")
        if variant and "risk_profile" in variant:
            variant = {**variant, "risk_profile": self._risk_profile(variant["risk_profile"])}
        batch = services.create_batch(
            actor=self.actor,
            kind=data["kind"],
            grid=data.get("grid"),
            objective=data["objective"],
            folds=data.get("folds"),
            train_ratio=data.get("train_ratio"),
            anchored=data["anchored"],
            variant=variant,
            **_base_fields(data),
        )
        batch = BacktestBatch.objects.prefetch_related("runs").get(pk=batch.pk)
        return Response(BacktestBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    def _risk_profile(self, value):
        if value is None:
            return None
        found = risk_profiles_for(self.request.user).filter(pk=value).first() if (
            isinstance(value, int)
        ) else None  # fmt: skip
        if found is None:
            raise ValidationError(
                "variant.risk_profile", "must be the id of a risk profile you see"
            )
        return found
