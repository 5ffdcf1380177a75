from django.contrib import admin

from .models import Alert


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("created_at", "severity", "event", "message", "acknowledged_at")
    list_filter = ("severity", "event")
    search_fields = ("event", "message", "correlation_id")
    readonly_fields = (
        "created_at",
        "updated_at",
        "severity",
        "event",
        "message",
        "context",
        "correlation_id",
    )
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False  # alerts come from raise_alert, never typed in
