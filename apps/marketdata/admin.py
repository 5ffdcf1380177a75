"""Market data in the ops console: read-only (it comes from the exchange)."""

from django.contrib import admin

from .models import Candle, Symbol


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Symbol)
class SymbolAdmin(ReadOnlyAdmin):
    list_display = ("name", "environment", "base_asset", "quote_asset", "status", "synced_at")
    list_filter = ("environment", "status", "quote_asset")
    search_fields = ("name", "base_asset", "quote_asset")


@admin.register(Candle)
class CandleAdmin(ReadOnlyAdmin):
    list_display = ("symbol", "interval", "open_time", "open", "high", "low", "close", "volume")
    list_filter = ("interval",)
    search_fields = ("symbol__name",)
    list_select_related = ("symbol",)
    show_full_result_count = False  # counting a partitioned table of millions is slow
    date_hierarchy = None
