"""The notification route form: its save is the `save_route` service call."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.admin_forms import ServiceModelForm
from apps.accounts.models import Organization
from apps.accounts.roles import Action
from apps.accounts.scoping import has_cross_organization_access

from .compliance.services import generate_report
from .models import ComplianceReport, NotificationRoute
from .notifications.services import save_route


class NotificationRouteForm(ServiceModelForm):
    events_text = forms.CharField(
        label=_("events"),
        required=False,
        help_text=_('Comma-separated event names; a trailing "*" matches a prefix. Empty: all.'),
    )
    new_secret = forms.CharField(
        label=_("secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Telegram: the bot token. Slack and Discord: the webhook URL. Signed webhook: "
            "the signing key. Stored encrypted, never shown; leave empty to keep it."
        ),
    )

    class Meta:
        model = NotificationRoute
        fields = ["organization", "name", "channel", "min_severity", "target", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events_text"].initial = ", ".join(self.instance.events or [])
        if "organization" in self.fields and self.actor is not None:
            user = self.actor.user
            self.fields["organization"].queryset = Organization.objects.for_user(
                user, Action.MANAGE
            )
            self.fields["organization"].required = not has_cross_organization_access(
                user, Action.MANAGE
            )

    def clean_target(self):
        value = self.cleaned_data.get("target")
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except ValueError:
                raise forms.ValidationError(_("Enter a JSON object.")) from None
        return value or {}

    def perform(self):
        data = {name: self.cleaned_data.get(name) for name in self.Meta.fields}
        events = self.cleaned_data.get("events_text", "")
        data["events"] = [e.strip() for e in events.split(",") if e.strip()]
        return save_route(
            actor=self.actor,
            route=self.instance,
            data=data,
            secret=self.cleaned_data.get("new_secret") or None,
        )


class ComplianceReportForm(ServiceModelForm):
    """Generating a report is the `generate_report` service call (audited)."""

    class Meta:
        model = ComplianceReport
        fields = ["organization", "period_start", "period_end"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "organization" in self.fields and self.actor is not None:
            self.fields["organization"].queryset = Organization.objects.for_user(
                self.actor.user, Action.RISK
            )

    def perform(self):
        return generate_report(
            actor=self.actor,
            organization=self.cleaned_data["organization"],
            period_start=self.cleaned_data["period_start"],
            period_end=self.cleaned_data["period_end"],
        )
