"""Read-only audit views with filters and audited CSV/XLSX exports."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import exports
from .models import AuditEvent
from .services import record_event


class OrganizationFilter(admin.SimpleListFilter):
    title = _("organization")
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        from apps.accounts.models import Organization  # accounts sits beside audit

        choices = [("platform", _("Platform (no organization)"))]
        visible = Organization.objects.for_user(request.user).order_by("name")
        return choices + [(str(o.pk), o.name) for o in visible]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "platform":
            return queryset.filter(organization_id__isnull=True)
        if value and value.isdigit():
            return queryset.filter(organization_id=int(value))
        return queryset


class ActorFilter(admin.SimpleListFilter):
    """The most recent actors the viewer may see (search by name finds the others)."""

    title = _("actor")
    parameter_name = "actor"
    LIMIT = 30

    def lookups(self, request, model_admin):
        recent = (
            model_admin.get_queryset(request)
            .exclude(actor_username="")
            .order_by("-occurred_at")
            .values_list("actor_username", flat=True)[:2000]
        )
        names = list(dict.fromkeys(recent))[: self.LIMIT]
        return [(name, name) for name in sorted(names)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(actor_username=value) if value else queryset


class PeriodFilter(admin.SimpleListFilter):
    title = _("period")
    parameter_name = "period"
    PERIODS = {"1d": 1, "7d": 7, "30d": 30, "365d": 365}

    def lookups(self, request, model_admin):
        return [
            ("1d", _("Last 24 hours")),
            ("7d", _("Last 7 days")),
            ("30d", _("Last 30 days")),
            ("365d", _("Last year")),
        ]

    def queryset(self, request, queryset):
        days = self.PERIODS.get(self.value() or "")
        if days:
            return queryset.filter(occurred_at__gte=timezone.now() - timedelta(days=days))
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "organization_id",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "ip_address",
    )
    list_filter = (OrganizationFilter, ActorFilter, PeriodFilter, "action")
    search_fields = ("actor_username", "action", "object_id", "correlation_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    actions = ["export_csv", "export_xlsx"]
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _export(self, request, queryset, fmt: str):
        record_event(
            action="audit.exported",
            actor=request.user,
            changes={
                "format": fmt,
                "rows": queryset.count(),
                "filters": request.GET.urlencode()[:500],
            },
        )
        events = queryset.order_by("chain", "sequence")
        return exports.csv_response(events) if fmt == "csv" else exports.xlsx_response(events)

    @admin.action(description=_("Export selected as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description=_("Export selected as XLSX"), permissions=["export"])
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("audit.export_auditevent")
