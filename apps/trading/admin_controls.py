"""Controls in the ops console: kill switches, go-live requests with their checklist,
manual position actions and kill-switch actions on exchange accounts.

Every button calls a service of `controls` or `golive`; the admin only collects input,
asks for a second factor where the service needs one, and reports the outcome.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from apps.accounts.actors import Actor, StepUpRequired
from apps.accounts.admin import OrganizationScopedAdmin, _table
from apps.accounts.admin_forms import ServiceModelForm
from apps.accounts.models import ExchangeAccount, Organization
from apps.accounts.roles import Action
from apps.accounts.views import require_step_up_redirect
from apps.core import errors
from apps.strategies.selectors import risk_profiles_for

from . import controls, golive
from .models import GoLiveRequest, KillSwitch


def _report_message(report: controls.KillReport) -> str:
    return _("Kill switch engaged: %(canceled)d entry order(s) canceled, %(exits)d position(s) "
             "sold, %(failed)d account(s) failed.") % {
        "canceled": len(report.canceled), "exits": len(report.exits),
        "failed": len(report.failures),
    }  # fmt: skip


# --- kill switches ------------------------------------------------------------------


class KillSwitchForm(ServiceModelForm):
    """Adding a kill switch engages it (no second factor: it is an emergency)."""

    class Meta:
        model = KillSwitch
        fields = ["scope", "organization", "account", "reason", "flatten"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "scope" in self.fields and self.actor is not None and not self.actor.system:
            user = self.actor.user
            self.fields["organization"].queryset = Organization.objects.for_user(user, Action.KILL)
            self.fields["account"].queryset = ExchangeAccount.objects.for_user(user, Action.KILL)

    def perform(self):
        data = self.cleaned_data
        self.report = controls.engage_kill_switch(
            actor=self.actor,
            scope=data["scope"],
            organization=data.get("organization"),
            account=data.get("account"),
            reason=data.get("reason", ""),
            flatten=bool(data.get("flatten")),
        )
        return self.report.switch


class KillSwitchAdmin(OrganizationScopedAdmin):
    form = KillSwitchForm
    list_display = (
        "scope", "organization", "account", "flatten", "reason", "engaged_at", "engaged_by",
        "released_at", "released_by",
    )  # fmt: skip
    list_filter = ("scope", "flatten")
    actions = ["release"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("scope", "organization", "account", "reason", "flatten")
        return self.list_display

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.list_display

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def save_model(self, request, obj, form, change):
        report = getattr(form, "report", None)
        if report is not None:
            level = messages.WARNING if report.failures else messages.SUCCESS
            self.message_user(request, _report_message(report), level)

    @admin.action(description=_("Release selected kill switches (second factor)"))
    def release(self, request, queryset):
        if step_up := require_step_up_redirect(request):
            return step_up
        actor = Actor.from_request(request)
        for switch in queryset:
            try:
                controls.release_kill_switch(actor=actor, switch=switch)
            except errors.SpotdeskError as exc:
                self.message_user(request, f"{switch}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(switch)s released.") % {"switch": switch})
        return None


# --- go-live requests -----------------------------------------------------------------


class GoLiveRequestForm(ServiceModelForm):
    class Meta:
        model = GoLiveRequest
        fields = ["paper_config", "live_account", "risk_profile", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" not in self.fields:
            return  # the change page: everything is read-only
        self.fields["name"].required = False
        self.fields["name"].help_text = _("Defaults to the paper configuration's name.")
        if self.actor is not None and not self.actor.system:
            user = self.actor.user
            configs = self.fields["paper_config"].queryset.model.objects.for_user(
                user, Action.TRADE
            )
            self.fields["paper_config"].queryset = configs.exclude(account__environment="live")
            self.fields["live_account"].queryset = ExchangeAccount.objects.for_user(
                user, Action.TRADE
            ).filter(environment="live")
            # Profiles have no organization: only those the user's configs use.
            self.fields["risk_profile"].queryset = risk_profiles_for(user)

    def perform(self):
        data = self.cleaned_data
        return golive.request_go_live(
            actor=self.actor,
            paper_config=data["paper_config"],
            live_account=data["live_account"],
            risk_profile=data.get("risk_profile"),
            name=data.get("name") or None,
        )


class ApprovalForm(forms.Form):
    otp_code = forms.CharField(
        label=_("Code from your authenticator"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def checklist_table(items) -> str:
    yes, no = _("met"), _("NOT MET")
    rows = [(i.label, i.value, i.target, yes if i.met else no) for i in items]
    return _table([_("item"), _("value"), _("target"), _("status")], rows)


class GoLiveRequestAdmin(OrganizationScopedAdmin):
    form = GoLiveRequestForm
    list_display = ("name", "paper_config", "live_account", "status", "requested_by",
                    "approved_at", "approved_by")  # fmt: skip
    list_filter = ("status",)
    actions = ["withdraw"]
    _detail = (
        "paper_config", "live_account", "risk_profile", "name", "strategy", "strategy_version",
        "params", "symbols", "interval", "status", "requested_by", "approved_at", "approved_by",
        "live_config", "checklist_now", "approve_link",
    )  # fmt: skip

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("paper_config", "live_account", "risk_profile", "name")
        return self._detail

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self._detail

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("checklist"))
    def checklist_now(self, obj):
        if obj.status == GoLiveRequest.Status.APPROVED:
            items = [golive.ChecklistItem(**item) for item in obj.checklist]
        else:
            items = golive.evaluate_checklist(obj)
        return checklist_table(items)

    @admin.display(description=_("approval"))
    def approve_link(self, obj):
        if obj.status != GoLiveRequest.Status.PENDING:
            return "-"
        url = reverse("admin:trading_goliverequest_approve", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Approve with a code…"))

    def get_urls(self):
        view = self.admin_site.admin_view(sensitive_post_parameters("otp_code")(self.approve_view))
        extra = [path("<path:object_id>/approve/", view, name="trading_goliverequest_approve")]
        return extra + super().get_urls()

    def approve_view(self, request, object_id):
        obj = get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        form = ApprovalForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                golive.approve_go_live(
                    actor=Actor.from_request(request),
                    request=obj,
                    otp_code=form.cleaned_data["otp_code"],
                )
            except golive.ChecklistNotMet as exc:
                for item in exc.unmet:
                    form.add_error(None, f"{item.label}: {item.value} ({item.target})")
            except errors.ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except errors.SpotdeskError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Approved: the live configuration runs."))
                return redirect("admin:trading_goliverequest_change", obj.pk)
        return TemplateResponse(
            request,
            "admin/trading/golive_approve.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Approve going live: %(name)s") % {"name": obj.name},
                "form": form,
                "checklist": checklist_table(golive.evaluate_checklist(obj)),
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Withdraw selected requests"))
    def withdraw(self, request, queryset):
        actor = Actor.from_request(request)
        for obj in queryset:
            try:
                golive.withdraw_go_live(actor=actor, request=obj)
            except errors.SpotdeskError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)


# --- positions: close now, move the stop, cancel the ladder ------------------------------


class MoveStopForm(forms.Form):
    stop_price = forms.CharField(label=_("New stop price"), max_length=40)


class PositionControlsMixin:
    """Manual actions for the (read-only) position admin."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        for name in ("close_now", "cancel_ladder", "move_stop"):
            func = getattr(type(self), name)
            actions[name] = (func, name, func.short_description)
        return actions

    def _each(self, request, queryset, operation, done):
        actor = Actor.from_request(request)
        for position in queryset:
            try:
                operation(actor=actor, position=position)
            except errors.SpotdeskError as exc:
                self.message_user(request, f"{position}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, done % {"position": position})

    @admin.action(description=_("Close selected positions now (market)"))
    def close_now(self, request, queryset):
        self._each(request, queryset, controls.close_position, _("%(position)s: exit sent."))

    @admin.action(description=_("Cancel the take-profit ladder of selected positions"))
    def cancel_ladder(self, request, queryset):
        self._each(request, queryset, controls.cancel_ladder, _("%(position)s: ladder canceled."))

    @admin.action(description=_("Move the stop of the selected position"))
    def move_stop(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one position."), messages.ERROR)
            return None
        return redirect("admin:trading_position_move_stop", queryset.get().pk)

    def get_urls(self):
        view = self.admin_site.admin_view(self.move_stop_view)
        extra = [path("<path:object_id>/move-stop/", view, name="trading_position_move_stop")]
        return extra + super().get_urls()

    def move_stop_view(self, request, object_id):
        position = get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        form = MoveStopForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                controls.move_stop(
                    actor=Actor.from_request(request),
                    position=position,
                    stop_price=form.cleaned_data["stop_price"].strip(),
                )
            except errors.ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except errors.SpotdeskError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Stop moved and protection replaced."))
                return redirect("admin:trading_position_change", position.pk)
        return TemplateResponse(
            request,
            "admin/trading/move_stop.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Move the stop of %(position)s") % {"position": position},
                "form": form,
                "position": position,
                "opts": self.model._meta,
            },
        )


# --- exchange accounts: the kill switch per account ------------------------------------


class AccountKillSwitchMixin:
    """Adds 'engage the kill switch' (and with flatten) to the exchange account admin."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        for name in ("engage_kill_switch", "engage_kill_switch_flatten"):
            func = getattr(type(self), name)
            actions[name] = (func, name, func.short_description)
        return actions

    def _engage(self, request, queryset, *, flatten: bool):
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/trading/kill_switch_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Confirm the kill switch"),
                    "accounts": queryset,
                    "flatten": flatten,
                    "action": request.POST.get("action"),
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        actor = Actor.from_request(request)
        for account in queryset:
            try:
                report = controls.engage_kill_switch(
                    actor=actor, scope="account", account=account, flatten=flatten,
                    reason=request.POST.get("reason", ""),
                )  # fmt: skip
            except (errors.SpotdeskError, StepUpRequired) as exc:
                self.message_user(request, f"{account}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{account}: {_report_message(report)}")
        return None

    @admin.action(description=_("Kill switch: cancel entries of selected accounts"))
    def engage_kill_switch(self, request, queryset):
        return self._engage(request, queryset, flatten=False)

    @admin.action(description=_("Kill switch and FLATTEN: also sell every open position"))
    def engage_kill_switch_flatten(self, request, queryset):
        return self._engage(request, queryset, flatten=True)


def register(site) -> None:
    """Called by apps/trading/admin.py."""
    site.register(KillSwitch, KillSwitchAdmin)
    site.register(GoLiveRequest, GoLiveRequestAdmin)
    # The accounts app cannot import trading (dependencies point one way): extend its
    # registered admin from here instead.
    current = type(site._registry[ExchangeAccount])
    site.unregister(ExchangeAccount)
    extended = type(current.__name__, (AccountKillSwitchMixin, current), {"__module__": __name__})
    site.register(ExchangeAccount, extended)
