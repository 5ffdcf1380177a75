"""The trading records in the ops console: read-only and scoped. Orders, fills and
positions come from the exchange and the services; the admin never edits them."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import OrganizationScopedAdmin
from apps.core.paginators import EstimatedCountPaginator
from apps.marketdata.models import Symbol

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
    # These tables grow to millions of rows: no COUNT(*) over all of them per page.
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


# An identifier names one row, or a few across accounts.
MAX_IDENTITY_MATCHES = 1000


class ExactSearchMixin:
    """Search by whole identifiers and symbols. A substring search (Django's default)
    reads every row of a table of millions for each page and again for its count;
    an exact match is what an operator pastes from a log or the exchange anyway.

    Identifier matches are looked up first, one query per field (an OR of them would be
    planned as one read of the table as soon as one field has no index of its own), and
    the page and its count then follow the primary key."""

    exact_text_fields: tuple[str, ...] = ()  # identifiers, compared as typed
    exact_int_fields: tuple[str, ...] = ()  # identifiers, when the term is a whole number
    exact_symbol_fields: tuple[str, ...] = ()  # compared upper-cased

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if Symbol.objects.filter(name=term.upper()).exists():
            # A listed symbol is a symbol, not an identifier: no read of the whole table.
            matches = [Q(**{field: term.upper()}) for field in self.exact_symbol_fields]
        else:
            # Not a symbol of any row either (symbols are synced, never deleted): an
            # identifier only. Comparing the unindexed symbol too would turn the page
            # and its count into reads of the whole table.
            matches = []
            identities = [(field, term) for field in self.exact_text_fields]
            if term.isdigit() and len(term) <= 18:  # fits a bigint
                identities += [(field, int(term)) for field in self.exact_int_fields]
            pks = identity_keys(self.model, identities)
            matches += [Q(pk__in=pks)] if pks else []
            matches += self.related_matches(term)
        if not matches:
            return queryset.none(), False
        # `queryset` keeps the user's scope: the looked-up keys only narrow it.
        return queryset.filter(_any(matches)), False

    def related_matches(self, term: str) -> list[Q]:
        return []


def identity_keys(model, identities: list[tuple[str, object]]) -> list:
    """Primary keys of the rows whose identifier field equals its value, at most
    MAX_IDENTITY_MATCHES: one lookup per field, each along that field's index."""
    keys: set = set()
    for field, value in identities:
        rows = model._default_manager.filter(**{field: value}).values_list("pk", flat=True)
        keys.update(rows[:MAX_IDENTITY_MATCHES])
    return sorted(keys)[:MAX_IDENTITY_MATCHES]


def _any(conditions: list[Q]) -> Q:
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


class FillSourceFilter(admin.SimpleListFilter):
    """The known sources, instead of a SELECT DISTINCT over every fill per page."""

    title = _("source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return (
            ("stream", _("User-data stream")),
            ("rest", _("Order response")),
            ("reconciliation", _("Reconciliation")),
        )

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(source=value) if value else queryset


@admin.register(Order)
class OrderAdmin(ExactSearchMixin, ReadOnlyScopedAdmin):
    list_display = (
        "client_order_id", "account", "symbol", "intent", "side", "order_type",
        "quantity", "price", "executed_quantity", "status", "external", "needs_review",
    )  # fmt: skip
    list_filter = ("status", "intent", "side", "external", "needs_review")
    search_fields = ("client_order_id", "symbol", "exchange_order_id")
    exact_text_fields = ("client_order_id",)
    exact_symbol_fields = ("symbol",)
    exact_int_fields = ("exchange_order_id",)
    search_help_text = _("A whole client order id, exchange order id or symbol.")
    # Newest first along the primary key's index (created_at has none: a sort of the
    # whole table per page).
    ordering = ("-id",)


@admin.register(Fill)
class FillAdmin(ExactSearchMixin, ReadOnlyScopedAdmin):
    list_display = (
        "exchange_trade_id", "account", "symbol", "side", "price", "quantity",
        "commission", "commission_asset", "executed_at",
    )  # fmt: skip
    list_filter = ("side", FillSourceFilter)
    search_fields = ("symbol", "exchange_trade_id", "order__client_order_id")
    exact_symbol_fields = ("symbol",)
    exact_int_fields = ("exchange_trade_id",)
    search_help_text = _("A whole exchange trade id, client order id or symbol.")
    ordering = ("-id",)  # recorded order, along the primary key's index

    def related_matches(self, term: str) -> list[Q]:
        # The orders first: joined in the page query, the planner walks every fill
        # newest first looking for the order. The fills' own scope still applies.
        orders = Order.objects.filter(client_order_id=term).values_list("pk", flat=True)
        pks = list(orders[:MAX_IDENTITY_MATCHES])
        return [Q(order_id__in=pks)] if pks else []


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
