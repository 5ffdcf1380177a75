"""Rollouts in the ops console: members, the KPI comparison, promote and roll back.
Each action is one service call (one transaction, audited)."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.accounts.actors import Actor
from apps.accounts.admin import OrganizationScopedAdmin
from apps.core import errors

from . import rollout_kpis, rollouts
from .models import Rollout, RolloutState

METRIC_LABELS = {
    "configs": _("configurations"),
    "trades": _("round trips"),
    "win_rate": _("win rate"),
    "profit_factor": _("profit factor"),
    "gross_profit": _("gross profit"),
    "gross_loss": _("gross loss"),
    "max_drawdown": _("maximum drawdown"),
    "sharpe": _("Sharpe (daily, annualised)"),
    "orders": _("orders"),
    "error_rate": _("order error rate"),
}


def _table(headers, rows) -> str:
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in r)),) for r in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(Rollout)
class RolloutAdmin(OrganizationScopedAdmin):
    list_display = ("name", "organization", "strategy", "mode", "fraction", "state", "created_at")
    list_filter = ("state", "mode", "strategy")
    search_fields = ("name", "strategy", "organization__name")
    list_select_related = ("organization",)
    actions = ["promote", "roll_back"]
    fields = (
        "organization", "name", "strategy", "mode", "fraction", "candidate_version",
        "candidate_params", "state", "started_by", "created_at", "finished_by", "finished_at",
        "member_table", "kpi_comparison",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # started through apps.operations.rollouts (see docs/operations.md)

    def has_change_permission(self, request, obj=None):
        return False  # read-only page; promote and roll back are the actions

    @admin.display(description=_("members"))
    def member_table(self, obj):
        rows = [
            (m.config, m.config.account, m.get_role_display(), m.previous_version,
             m.config.strategy_version)
            for m in obj.members.select_related("config__account")
        ]  # fmt: skip
        headers = [_("configuration"), _("account"), _("role"), _("version before"),
                   _("version now")]  # fmt: skip
        return _table(headers, rows)

    @admin.display(description=_("KPI comparison"))
    def kpi_comparison(self, obj):
        kpis = rollout_kpis.compare(obj)
        rows = [
            (label, _none(kpis["candidate"][name]), _none(kpis["baseline"][name]))
            for name, label in METRIC_LABELS.items()
        ]
        table = _table([_("metric"), _("candidate"), _("baseline")], rows)
        return format_html("{}<p>{} {} → {}</p>", table, _("Period:"), kpis["since"], kpis["until"])

    def _each(self, request, queryset, operation, done):
        actor = Actor.from_request(request)
        count = 0
        for rollout in queryset.filter(state=RolloutState.RUNNING):
            try:
                operation(actor=actor, rollout=rollout)
                count += 1
            except errors.SpotdeskError as exc:
                self.message_user(request, f"{rollout}: {exc.message}", messages.ERROR)
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Promote: every account gets the candidate"))
    def promote(self, request, queryset):
        self._each(request, queryset, rollouts.promote, _("%(count)d rollout(s) promoted."))

    @admin.action(description=_("Roll back: canaries return to the previous version"))
    def roll_back(self, request, queryset):
        self._each(request, queryset, rollouts.rollback, _("%(count)d rollout(s) rolled back."))


def _none(value):
    return "—" if value is None else value
