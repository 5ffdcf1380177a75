"""Backtests, their batches and the paper run of a result. Ids in requests are looked up
within what the caller may see, so another organization's id is simply invalid."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import Environment, ExchangeAccount, Organization
from apps.accounts.roles import Action
from apps.backtest.models import Backtest, BacktestBatch, FillMode
from apps.backtest.services import OBJECTIVES
from apps.marketdata.intervals import Interval
from apps.risk.models import RiskProfile
from apps.strategies.models import StrategyConfig

from ..selectors import risk_profiles_for


class BacktestSerializer(serializers.ModelSerializer):
    class Meta:
        model = Backtest
        fields = [
            "id", "organization", "account", "batch", "role", "name", "source_config",
            "strategy", "strategy_version", "params", "risk_profile_name", "environment",
            "symbols", "interval", "start", "end", "fill_mode", "commission", "slippage",
            "initial_cash", "backfill", "status", "progress", "error", "metrics", "monte_carlo",
            "bars", "created_by", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class BacktestBatchSerializer(serializers.ModelSerializer):
    runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = BacktestBatch
        fields = ["id", "organization", "name", "kind", "spec", "status", "progress", "summary",
                  "runs", "created_by", "created_at", "finished_at"]  # fmt: skip
        read_only_fields = fields


class _Scoped(serializers.Serializer):
    """Relations resolve only to rows the caller may see."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = request.user if request is not None else None
        scoped = {
            "organization": Organization.objects.for_user(user, Action.VIEW),
            "account": ExchangeAccount.objects.for_user(user, Action.VIEW),
            "config": StrategyConfig.objects.for_user(user, Action.VIEW),
            "risk_profile": risk_profiles_for(user) if user else RiskProfile.objects.none(),
        }
        for name, queryset in scoped.items():
            if name in self.fields:
                self.fields[name].queryset = queryset


def _related(help_text):
    return serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(), required=False, allow_null=True, help_text=help_text
    )


class BacktestCreateSerializer(_Scoped):
    organization = _related(_("Organization id (or give an account or a config)."))
    account = _related(_("Exchange account id: its environment, and backfill through it."))
    config = _related(_("Strategy configuration id: its strategy, parameters, symbols, "
                        "interval and risk profile, unless given here."))  # fmt: skip
    name = serializers.CharField(max_length=120, required=False)
    strategy = serializers.CharField(max_length=60, required=False)
    params = serializers.DictField(required=False)
    symbols = serializers.ListField(child=serializers.CharField(max_length=20), required=False,
                                    max_length=20)  # fmt: skip
    interval = serializers.ChoiceField(choices=Interval.choices, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    risk_profile = _related(_("Risk profile id; empty: all-in entries, strategy exits only."))
    fill_mode = serializers.ChoiceField(choices=FillMode.choices, default=FillMode.NEXT_OPEN)
    commission = serializers.DecimalField(max_digits=10, decimal_places=8, default="0.001",
                                          min_value=0)  # fmt: skip
    slippage = serializers.DecimalField(max_digits=10, decimal_places=8, default="0", min_value=0)
    initial_cash = serializers.DecimalField(max_digits=30, decimal_places=8, default="10000",
                                            min_value=0)  # fmt: skip
    backfill = serializers.BooleanField(default=False)


class BacktestBatchCreateSerializer(BacktestCreateSerializer):
    kind = serializers.ChoiceField(choices=BacktestBatch.Kind.choices)
    grid = serializers.DictField(
        child=serializers.ListField(), required=False,
        help_text=_("sweep, walk_forward: parameter -> list of values."),
    )  # fmt: skip
    objective = serializers.ChoiceField(choices=OBJECTIVES, default="sharpe")
    folds = serializers.IntegerField(min_value=1, max_value=50, required=False)
    train_ratio = serializers.FloatField(min_value=0.1, max_value=0.95, required=False)
    anchored = serializers.BooleanField(default=False)
    variant = serializers.DictField(
        required=False,
        help_text=_("compare: what B changes (strategy, params, risk_profile id)."),
    )


class PaperRunSerializer(_Scoped):
    account = _related(_("A paper account of the backtest's organization."))
    name = serializers.CharField(max_length=120, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].required = True
        self.fields["account"].allow_null = False


class BacktestEquityPointSerializer(serializers.Serializer):
    time = serializers.IntegerField(help_text=_("Bar open time, ms."))
    equity = serializers.FloatField()
    drawdown = serializers.FloatField()


class BacktestTradeSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    entry_time = serializers.IntegerField()
    exit_time = serializers.IntegerField()
    quantity = serializers.CharField()
    entry_price = serializers.CharField()
    exit_price = serializers.CharField()
    pnl = serializers.CharField()
    fees = serializers.CharField()
    return_pct = serializers.CharField()
    r_multiple = serializers.CharField(allow_null=True)
    exit_reason = serializers.CharField()
