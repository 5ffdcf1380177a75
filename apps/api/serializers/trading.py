"""The trading resources (read-only rows) and the inputs of the trading actions.

Rows are written only by `apps.trading` and `apps.strategies` services: these
serializers render them, and the input serializers only check shapes; the services
check the rules (and name the field when one is broken).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import ExchangeAccount, Organization
from apps.accounts.roles import Action
from apps.marketdata.intervals import Interval
from apps.risk.models import RiskProfile
from apps.strategies.models import StrategyConfig
from apps.trading.models import (
    CashFlow,
    Decision,
    EquitySnapshot,
    Fill,
    GoLiveRequest,
    KillSwitch,
    Order,
    Position,
    Trade,
)

from .rows import ReadOnlyRowSerializer


def _read_only(model_class, names):
    """A ModelSerializer over `names`, every one read-only."""

    class Meta:
        model = model_class
        fields = list(names)
        read_only_fields = list(names)

    return Meta


class OrderSerializer(ReadOnlyRowSerializer):
    Meta = _read_only(
        Order,
        [
            "id", "account", "strategy_config", "position", "decision", "symbol",
            "client_order_id", "exchange_order_id", "order_list_id", "intent", "order_type",
            "side", "time_in_force", "quantity", "price", "stop_price", "executed_quantity",
            "cumulative_quote_quantity", "status", "status_reason", "external", "needs_review",
            "review_reason", "created_at", "updated_at",
        ],
    )  # fmt: skip


class FillSerializer(ReadOnlyRowSerializer):
    Meta = _read_only(
        Fill,
        [
            "id", "account", "order", "position", "symbol", "side", "exchange_trade_id",
            "price", "quantity", "quote_quantity", "commission", "commission_asset",
            "commission_quote", "quote_rate", "is_maker", "executed_at", "source",
        ],
    )  # fmt: skip


class PositionSerializer(ReadOnlyRowSerializer):
    Meta = _read_only(
        Position,
        [
            "id", "account", "strategy_config", "symbol", "base_asset", "quote_asset", "status",
            "quantity", "cost_basis", "average_entry_price", "realized_pnl",
            "realized_pnl_value", "fees_paid", "bought_quantity", "sold_quantity",
            "dust_quantity", "original_quantity", "stop_price", "highest_price",
            "breakeven_done", "ladder_done", "additions", "ladder_canceled", "opened_at",
            "closed_at", "updated_at",
        ],
    )  # fmt: skip


class TradeSerializer(ReadOnlyRowSerializer):
    Meta = _read_only(
        Trade,
        [
            "id", "account", "strategy_config", "position", "symbol", "quantity",
            "entry_price", "exit_price", "fees", "realized_pnl", "realized_pnl_value",
            "return_pct", "opened_at", "closed_at",
        ],
    )  # fmt: skip


class CashFlowSerializer(ReadOnlyRowSerializer):
    Meta = _read_only(
        CashFlow,
        ["id", "account", "kind", "asset", "amount", "value", "occurred_at", "source"],
    )


class EquitySnapshotSerializer(ReadOnlyRowSerializer):
    Meta = _read_only(
        EquitySnapshot, ["id", "account", "taken_at", "equity", "unrealized_pnl", "net_flows"]
    )


class DecisionSerializer(ReadOnlyRowSerializer):
    Meta = _read_only(
        Decision,
        [
            "id", "account", "strategy_config", "created_at", "symbol", "interval",
            "candle_open_time", "strategy", "strategy_version", "params_fingerprint", "inputs",
            "indicators", "signal", "signal_reason", "outcome", "risk_verdict", "exits",
            "orders_placed", "error",
        ],
    )  # fmt: skip


class KillSwitchSerializer(serializers.ModelSerializer):
    engaged = serializers.BooleanField(read_only=True)

    Meta = _read_only(
        KillSwitch,
        [
            "id", "scope", "organization", "account", "reason", "flatten", "engaged",
            "engaged_at", "engaged_by", "released_at", "released_by",
        ],
    )  # fmt: skip


class GoLiveRequestSerializer(serializers.ModelSerializer):
    Meta = _read_only(
        GoLiveRequest,
        [
            "id", "paper_config", "live_account", "risk_profile", "name", "strategy",
            "strategy_version", "params", "symbols", "interval", "status", "requested_by",
            "approved_at", "approved_by", "checklist", "live_config", "created_at",
        ],
    )  # fmt: skip


# --- strategy configurations -------------------------------------------------------


class StrategyConfigSerializer(serializers.ModelSerializer):
    Meta = _read_only(
        StrategyConfig,
        [
            "id", "account", "name", "strategy", "strategy_version", "symbols", "interval",
            "params", "enabled", "paused_reason", "risk_profile", "created_at", "updated_at",
        ],
    )  # fmt: skip


class _Scoped(serializers.PrimaryKeyRelatedField):
    """A related id among the objects the caller may see: another tenant's is 'does not
    exist', exactly like an unknown id."""

    def get_queryset(self):
        request = self.context.get("request")
        model = self.queryset.model
        if request is None:
            return model.objects.none()
        if model is RiskProfile:
            from .. import selectors

            return selectors.risk_profiles_for(request.user)
        return model.objects.for_user(request.user, Action.VIEW)


def _scoped(model_class, **kwargs):
    return _Scoped(queryset=model_class.objects.all(), **kwargs)


_SYMBOLS_HELP = _("Symbols of the account's exchange, e.g. BTCUSDT.")
_PARAMS_HELP = _("Values for the strategy's parameter schema (see strategies/{key}/).")


class StrategyConfigCreateSerializer(serializers.Serializer):
    account = _scoped(ExchangeAccount)
    name = serializers.CharField(max_length=120)
    strategy = serializers.CharField(max_length=60, help_text=_("Key of a registered strategy."))
    symbols = serializers.ListField(
        child=serializers.CharField(max_length=20), max_length=50, help_text=_SYMBOLS_HELP
    )
    interval = serializers.ChoiceField(choices=Interval.choices)
    params = serializers.DictField(required=False, default=dict, help_text=_PARAMS_HELP)
    risk_profile = _scoped(RiskProfile, required=False, allow_null=True, default=None)


class StrategyConfigUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    symbols = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=50,
        required=False,
        help_text=_SYMBOLS_HELP,
    )
    interval = serializers.ChoiceField(choices=Interval.choices, required=False)
    params = serializers.DictField(required=False, help_text=_PARAMS_HELP)
    risk_profile = _scoped(RiskProfile, required=False)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


# --- action inputs -----------------------------------------------------------------


class OtpCodeSerializer(serializers.Serializer):
    otp_code = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("A current code of your authenticator (or send the X-OTP-Code header)."),
    )


class RequiredOtpCodeSerializer(serializers.Serializer):
    otp_code = serializers.CharField(
        max_length=16, help_text=_("A current code of your authenticator.")
    )


class KillSwitchEngageSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=[KillSwitch.Scope.ACCOUNT, KillSwitch.Scope.ORGANIZATION],
        help_text=_("The global switch is for platform staff, in the admin."),
    )
    account = _scoped(ExchangeAccount, required=False, allow_null=True, default=None)
    organization = _scoped(Organization, required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    flatten = serializers.BooleanField(
        required=False, default=False, help_text=_("Also sell every open position at market.")
    )


class FlattenSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        help_text=_("Must be true: every open position of the account is sold at market.")
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MoveStopSerializer(serializers.Serializer):
    stop_price = serializers.DecimalField(
        max_digits=30, decimal_places=12, help_text=_("Above 0 and below the current price.")
    )


class GoLiveCreateSerializer(serializers.Serializer):
    paper_config = _scoped(StrategyConfig)
    live_account = _scoped(ExchangeAccount)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    risk_profile = _scoped(RiskProfile, required=False, allow_null=True, default=None)


class KpiSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    strategy_config = serializers.IntegerField(allow_null=True)
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    trades = serializers.IntegerField()
    wins = serializers.IntegerField()
    win_rate = serializers.CharField(allow_null=True, help_text=_("Wins / trades."))
    profit_factor = serializers.CharField(
        allow_null=True, help_text=_("Gross profit / gross loss; 'Infinity' without a loss.")
    )
    expectancy = serializers.CharField(
        allow_null=True, help_text=_("Mean realized PnL per trade (valuation currency).")
    )
    gross_profit = serializers.CharField()
    gross_loss = serializers.CharField()
    net_pnl = serializers.CharField()
    average_trade_seconds = serializers.IntegerField(
        allow_null=True, help_text=_("Mean time from entry to exit.")
    )
    fees_paid = serializers.CharField(
        help_text=_("Commissions of the period's fills (valuation currency).")
    )
    sharpe = serializers.CharField(allow_null=True)
    sortino = serializers.CharField(allow_null=True)
    max_drawdown = serializers.CharField(allow_null=True)
    equity_snapshots = serializers.IntegerField()
