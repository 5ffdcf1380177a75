"""The trading records in the ops console: read-only and scoped. Orders, fills and
positions come from the exchange and the services; the admin never edits them."""

from django.contrib import admin

from apps.accounts.admin import OrganizationScopedAdmin

from . import admin_controls
from .models import (
    CashFlow,
    Decision,
    EquitySnapshot,
    Fill,
    Order,
    Position,
    ReconciliationRun,
    Trade,
)


class ReadOnlyScopedAdmin(OrganizationScopedAdmin):
    list_select_related = ("account",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(Order)
class OrderAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "client_order_id", "account", "symbol", "intent", "side", "order_type",
        "quantity", "price", "executed_quantity", "status", "external", "needs_review",
    )  # fmt: skip
    list_filter = ("status", "intent", "side", "external", "needs_review")
    search_fields = ("client_order_id", "symbol", "exchange_order_id")


@admin.register(Fill)
class FillAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "exchange_trade_id", "account", "symbol", "side", "price", "quantity",
        "commission", "commission_asset", "executed_at",
    )  # fmt: skip
    list_filter = ("side", "source")
    search_fields = ("symbol", "exchange_trade_id", "order__client_order_id")


@admin.register(Position)
class PositionAdmin(admin_controls.PositionControlsMixin, ReadOnlyScopedAdmin):
    list_display = (
        "symbol", "account", "strategy_config", "status", "quantity", "average_entry_price",
        "realized_pnl", "stop_price", "dust_quantity", "opened_at", "closed_at",
    )  # fmt: skip
    list_filter = ("status",)
    search_fields = ("symbol",)
    list_select_related = ("account", "strategy_config")


@admin.register(Trade)
class TradeAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "symbol", "account", "strategy_config", "quantity", "entry_price", "exit_price",
        "fees", "realized_pnl", "return_pct", "closed_at",
    )  # fmt: skip
    search_fields = ("symbol",)
    list_select_related = ("account", "strategy_config")


@admin.register(CashFlow)
class CashFlowAdmin(ReadOnlyScopedAdmin):
    list_display = ("occurred_at", "account", "kind", "asset", "amount", "value", "source")
    list_filter = ("kind",)


@admin.register(EquitySnapshot)
class EquitySnapshotAdmin(ReadOnlyScopedAdmin):
    list_display = ("taken_at", "account", "equity", "unrealized_pnl", "net_flows")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "created_at", "account", "strategy_config", "symbol", "signal", "outcome",
        "strategy_version",
    )  # fmt: skip
    list_filter = ("signal", "outcome")
    search_fields = ("symbol", "signal_reason")
    show_full_result_count = False  # a partitioned table of millions of rows


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyScopedAdmin):
    list_display = ("account", "trigger", "status", "started_at", "finished_at", "counts")
    list_filter = ("status", "trigger")
    date_hierarchy = "started_at"


admin_controls.register(admin.site)  # kill switches, go-live requests, account actions
