from django.contrib import admin

from .models import ExchangeInfoSnapshot


@admin.register(ExchangeInfoSnapshot)
class ExchangeInfoSnapshotAdmin(admin.ModelAdmin):
    list_display = ("environment", "fetched_at", "symbol_count", "server_time_ms")
    list_filter = ("environment",)
    readonly_fields = ("environment", "fetched_at", "symbol_count", "server_time_ms", "payload")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
