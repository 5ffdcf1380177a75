"""Alerts, notification routes (with "send test") and deliveries in the ops console.

All three are scoped to what the viewer may see; route secrets appear as masks only.
"""

from django.contrib import admin, messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.accounts.actors import Actor
from apps.accounts.admin import OrganizationScopedAdmin
from apps.accounts.roles import Action
from apps.core.errors import SpotdeskError

from .admin_forms import ComplianceReportForm, NotificationRouteForm
from .compliance.exports import EXPORTERS, filename
from .compliance.services import report_content
from .models import Alert, ComplianceReport, NotificationDelivery, NotificationRoute
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


@admin.register(ComplianceReport)
class ComplianceReportAdmin(OrganizationScopedAdmin):
    """Generate a report (add), then download it as XLSX or PDF from its page."""

    form = ComplianceReportForm
    list_display = ("created_at", "organization", "period_start", "period_end", "requested_by")
    # Only the organizations of reports the viewer may see (never another tenant's name).
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = ("requested_by", "totals", "downloads")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("organization", "period_start", "period_end")
        return ("organization", "period_start", "period_end", "requested_by", "totals", "downloads")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("download"))
    def downloads(self, obj):
        links = [
            format_html(
                '<a class="button" href="{}">{}</a>',
                reverse("admin:monitoring_compliancereport_download", args=[obj.pk, fmt]),
                fmt.upper(),
            )
            for fmt in EXPORTERS
        ]
        return format_html_join(" ", "{}", ((link,) for link in links))

    def get_urls(self):
        return [
            path(
                "<int:report_id>/download/<str:fmt>/",
                self.admin_site.admin_view(self.download_view),
                name="monitoring_compliancereport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, report_id: int, fmt: str):
        report = self.get_queryset(request).filter(pk=report_id).first()
        if report is None or fmt not in EXPORTERS:
            raise Http404
        try:
            data = report_content(actor=Actor.from_request(request), report=report, fmt=fmt)
        except SpotdeskError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(
                reverse("admin:monitoring_compliancereport_change", args=[report.pk])
            )
        render, content_type = EXPORTERS[fmt]
        response = HttpResponse(render(report, data), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
        return response
