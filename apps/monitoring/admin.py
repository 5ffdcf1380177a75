"""Alerts, notification routes (with "send test") and deliveries in the ops console.

All three are scoped to what the viewer may see; route secrets appear as masks only.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin import OrganizationScopedAdmin
from apps.accounts.roles import Action

from .admin_forms import NotificationRouteForm
from .models import Alert, NotificationDelivery, NotificationRoute
from .notifications.delivery import send_test


@admin.register(Alert)
class AlertAdmin(OrganizationScopedAdmin):
    list_display = ("created_at", "severity", "event", "organization", "message", "acknowledged_at")
    list_filter = ("severity", "event")
    search_fields = ("event", "message", "correlation_id")
    readonly_fields = (
        "created_at",
        "updated_at",
        "organization",
        "severity",
        "event",
        "message",
        "context",
        "correlation_id",
        "acknowledged_at",
    )
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False  # alerts come from raise_alert, never typed in

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(NotificationRoute)
class NotificationRouteAdmin(OrganizationScopedAdmin):
    form = NotificationRouteForm
    list_display = ("name", "organization", "channel", "min_severity", "secret_mask", "enabled")
    list_filter = ("channel", "min_severity", "enabled")
    search_fields = ("name", "organization__name")
    actions = ["send_test_message"]
    readonly_fields = ("secret_mask",)
    fields = (
        "organization",
        "name",
        "channel",
        "min_severity",
        "events_text",
        "target",
        "new_secret",
        "secret_mask",
        "enabled",
    )

    @admin.action(description=_("Send a test message"))
    def send_test_message(self, request, queryset):
        allowed = queryset.model.objects.for_user(request.user, Action.MANAGE)
        for route in queryset.filter(pk__in=allowed.values("pk")):
            delivery = send_test(route)
            if delivery.status == "sent":
                self.message_user(
                    request, _("%(route)s: test message sent.") % {"route": route}, messages.SUCCESS
                )
            else:
                self.message_user(
                    request,
                    _("%(route)s: test message failed (%(error)s).")
                    % {"route": route, "error": delivery.last_error},
                    messages.ERROR,
                )


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(OrganizationScopedAdmin):
    list_display = (
        "created_at",
        "route",
        "dedup_key",
        "status",
        "count",
        "attempts",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "route__channel")
    search_fields = ("dedup_key", "route__name")
    readonly_fields = (
        "route",
        "alert",
        "dedup_key",
        "status",
        "count",
        "attempts",
        "scheduled_for",
        "first_attempt_at",
        "sent_at",
        "last_error",
        "created_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
