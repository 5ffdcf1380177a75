"""The ops console for tenancy and custody: every write goes through a service.

Querysets are scoped with `for_user`, secrets appear only as masks, deletions of
tenant data go through services (bulk delete is off), and a staff member opening an
organization they do not belong to leaves a `staff.accessed` event in its chain.
"""

from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters

from apps.audit.services import record_event
from apps.core import errors

from . import lockouts, services
from .actors import Actor
from .admin_forms import (
    ExchangeAccountChangeForm,
    ExchangeAccountCreateForm,
    KeyPairForm,
    MembershipForm,
    OrganizationForm,
)
from .models import ApiKeyPair, ExchangeAccount, KeyState, Membership, Organization
from .roles import Action
from .scoping import has_cross_organization_access, organization_id_of
from .views import require_step_up_redirect


def audit_staff_access(request, obj) -> None:
    """Staff reading an organization they are not a member of is audited."""
    user = request.user
    organization_id = organization_id_of(obj)
    if user.memberships.filter(organization_id=organization_id).exists():
        return
    record_event(
        action="staff.accessed",
        actor=user,
        organization_id=organization_id,
        target=obj,
        changes={"path": request.path},
    )


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Scoped queryset, audited staff access, service-backed forms, no bulk delete."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user, Action.VIEW)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = Actor.from_request(request)
        return form

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # the form's service call saved and audited it

    def save_related(self, request, form, formsets, change):
        pass  # inlines are read-only; nothing else to save

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            audit_staff_access(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        if has_cross_organization_access(request.user):
            record_event(
                action="staff.listed",
                actor=request.user,
                object_type=self.model._meta.label_lower,
                changes={"path": request.get_full_path()[:500]},
            )
        return super().changelist_view(request, extra_context)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    form = OrganizationForm
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")

    def get_readonly_fields(self, request, obj=None):
        return ("slug", "created_at", "members") if obj else ()

    def get_fields(self, request, obj=None):
        return ("name", "slug", "created_at", "members") if obj else ("name", "slug")

    @admin.display(description=_("members"))
    def members(self, obj):
        rows = [
            (m.user.get_username(), m.get_role_display(), m.created_at)
            for m in obj.memberships.select_related("user")
        ]
        return _table([_("user"), _("role"), _("since")], rows)


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    form = MembershipForm
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "organization__name")
    autocomplete_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        return ("organization", "user") if obj else ()

    def get_fields(self, request, obj=None):
        return ("organization", "user", "role")

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super(OrganizationScopedAdmin, self).has_delete_permission(request)
        return Membership.objects.for_user(request.user, Action.MANAGE).filter(pk=obj.pk).exists()

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST" and (step_up := require_step_up_redirect(request)):
            return step_up
        try:
            return super().delete_view(request, object_id, extra_context)
        except errors.SpotdeskError as exc:  # e.g. the last admin; nothing was deleted
            self.message_user(request, exc.message, messages.ERROR)
            return redirect("admin:accounts_membership_change", object_id)

    def delete_model(self, request, obj):
        services.remove_member(actor=Actor.from_request(request), membership=obj)


def _table(headers, rows) -> str:
    """A read-only HTML table (no formset: nothing here is edited in place)."""
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in r)),) for r in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _key_actions(key_pair) -> str:
    if key_pair.state != KeyState.PENDING:
        return ""
    return format_html(
        '<a href="{}">{}</a> · <a href="{}">{}</a>',
        reverse("admin:accounts_exchangeaccount_key_action", args=[key_pair.pk, "promote"]),
        _("promote"),
        reverse("admin:accounts_exchangeaccount_key_action", args=[key_pair.pk, "discard"]),
        _("discard"),
    )


def _run_for_each(modeladmin, request, queryset, operation, done_message, **kwargs):
    actor = Actor.from_request(request)
    done = 0
    for account in queryset:
        try:
            operation(actor=actor, account=account, **kwargs)
            done += 1
        except errors.SpotdeskError as exc:
            modeladmin.message_user(request, f"{account}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(OrganizationScopedAdmin):
    list_display = (
        "name",
        "organization",
        "environment",
        "status",
        "active_key_mask",
        "keys_rotated_at",
    )
    list_filter = ("environment", "status")
    search_fields = ("name", "organization__name")
    actions = ["pause", "resume", "halt", "unhalt", "approve_live", "kill", "disable"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ExchangeAccountChangeForm if obj else ExchangeAccountCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return (
                "organization",
                "name",
                "environment",
                "valuation_currency",
                "key_type",
                "api_key",
                "secret",
            )
        return (
            "organization",
            "name",
            "environment",
            "valuation_currency",
            "status",
            "permissions",
            "permissions_verified_at",
            "keys_rotated_at",
            "live_approved_at",
            "live_approved_by",
            "key_pairs_table",
            "add_key_link",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "organization",
            "environment",
            "status",
            "permissions",
            "permissions_verified_at",
            "keys_rotated_at",
            "live_approved_at",
            "live_approved_by",
            "key_pairs_table",
            "add_key_link",
        )

    @admin.display(description=_("API key pairs"))
    def key_pairs_table(self, obj):
        rows = [
            (
                k.api_key_mask,
                k.secret_mask,
                k.get_key_type_display(),
                k.get_state_display(),
                k.created_at,
                _key_actions(k),
            )
            for k in obj.key_pairs.order_by("-created_at")
        ]
        headers = [_("API key"), _("secret"), _("key type"), _("state"), _("created at"), ""]
        return _table(headers, rows)

    @admin.display(description=_("active API key"))
    def active_key_mask(self, obj):
        key = obj.active_key
        return key.api_key_mask if key else "-"

    @admin.display(description=_("key rotation"))
    def add_key_link(self, obj):
        url = reverse("admin:accounts_exchangeaccount_add_key", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Add a key pair beside the active one"))

    @method_decorator(sensitive_post_parameters("secret", "api_key"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    # --- status actions ---

    @admin.action(description=_("Pause selected accounts"))
    def pause(self, request, queryset):
        _run_for_each(self, request, queryset, services.pause_account, _("%(count)d paused."))

    @admin.action(description=_("Resume selected accounts"))
    def resume(self, request, queryset):
        _run_for_each(self, request, queryset, services.resume_account, _("%(count)d resumed."))

    @admin.action(description=_("Halt selected accounts"))
    def halt(self, request, queryset):
        _run_for_each(self, request, queryset, services.halt_account, _("%(count)d halted."))

    @admin.action(description=_("Un-halt selected accounts"))
    def unhalt(self, request, queryset):
        _run_for_each(self, request, queryset, services.unhalt_account, _("%(count)d un-halted."))

    @admin.action(description=_("Approve live trading for selected accounts"))
    def approve_live(self, request, queryset):
        _run_for_each(self, request, queryset, services.approve_live, _("%(count)d approved."))

    @admin.action(description=_("Disable selected accounts"))
    def disable(self, request, queryset):
        _run_for_each(self, request, queryset, services.disable_account, _("%(count)d disabled."))

    @admin.action(description=_("KILL SWITCH: halt selected accounts now"))
    def kill(self, request, queryset):
        if request.POST.get("confirm") == "yes":
            _run_for_each(
                self, request, queryset, services.kill_account, _("%(count)d killed."), confirm=True
            )
            return None
        return TemplateResponse(
            request,
            "admin/accounts/kill_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Confirm the kill switch"),
                "accounts": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    # --- key rotation views ---

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/keys/add/",
                self.admin_site.admin_view(self.add_key_view),
                name="accounts_exchangeaccount_add_key",
            ),
            path(
                "keys/<int:key_id>/<str:operation>/",
                self.admin_site.admin_view(self.key_action_view),
                name="accounts_exchangeaccount_key_action",
            ),
        ]
        return extra + super().get_urls()

    def _change_url(self, account_id) -> str:
        return reverse("admin:accounts_exchangeaccount_change", args=[account_id])

    @method_decorator(sensitive_post_parameters("secret", "api_key"))
    def add_key_view(self, request, object_id):
        account = get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        form = KeyPairForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if step_up := require_step_up_redirect(request):
                return step_up
            try:
                services.add_key_pair(
                    actor=Actor.from_request(request),
                    account=account,
                    api_key=form.cleaned_data["api_key"],
                    secret=form.cleaned_data["secret"],
                    key_type=form.cleaned_data["key_type"],
                )
            except errors.ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except errors.SpotdeskError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("Key pair added."), messages.SUCCESS)
                return redirect(self._change_url(account.pk))
        return TemplateResponse(
            request,
            "admin/accounts/key_form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Add a key pair to %(account)s") % {"account": account},
                "form": form,
                "account": account,
                "opts": self.model._meta,
            },
        )

    def key_action_view(self, request, key_id, operation):
        operations = {"promote": services.promote_key_pair, "discard": services.discard_key_pair}
        if operation not in operations:
            return redirect("admin:accounts_exchangeaccount_changelist")
        keys = ApiKeyPair.objects.for_user(request.user, Action.VIEW).select_related("account")
        key_pair = get_object_or_404(keys, pk=key_id)
        if request.method == "POST":
            if step_up := require_step_up_redirect(request):
                return step_up
            try:
                operations[operation](actor=Actor.from_request(request), key_pair=key_pair)
            except errors.SpotdeskError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Done."), messages.SUCCESS)
            return redirect(self._change_url(key_pair.account_id))
        return TemplateResponse(
            request,
            "admin/accounts/key_action_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Confirm: %(operation)s key %(key)s")
                % {"operation": operation, "key": key_pair.api_key_mask},
                "key_pair": key_pair,
                "operation": operation,
                "opts": self.model._meta,
            },
        )


@admin.register(ApiKeyPair)
class ApiKeyPairAdmin(OrganizationScopedAdmin):
    """Masks only: the API key and the secret columns are never rendered."""

    list_display = ("api_key_mask", "account", "key_type", "state", "created_at", "retired_at")
    list_filter = ("state", "key_type")
    fields = (
        "account",
        "key_type",
        "api_key_mask",
        "secret_mask",
        "state",
        "activated_at",
        "retired_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(admin.ModelAdmin):
    """Failed logins and lockouts (django-axes); unlocking is an audited action."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time", "path_info")
    search_fields = ("username", "ip_address")
    date_hierarchy = "attempt_time"
    fields = ("username", "ip_address", "user_agent", "failures_since_start", "attempt_time")
    readonly_fields = fields
    actions = ["unlock"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Unlock selected (audited)"), permissions=["delete"])
    def unlock(self, request, queryset):
        count = lockouts.unlock(actor=Actor.from_request(request), attempts=queryset)
        self.message_user(
            request,
            ngettext("%(count)d lockout lifted.", "%(count)d lockouts lifted.", count)
            % {"count": count},
            messages.SUCCESS,
        )
