"""Admin forms whose save is a service call.

The service runs in the form's `clean()`: its validation errors land on the named
field, a refused step-up or role check becomes a form error, and since the service
is atomic a refusal changes nothing. The admin then adopts the saved instance.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core import errors

from . import services
from .actors import Actor, StepUpRequired
from .models import Environment, ExchangeAccount, KeyType, Membership, Organization
from .roles import Action


class ServiceModelForm(forms.ModelForm):
    actor: Actor | None = None

    def perform(self):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.instance = self.perform()
        except StepUpRequired as exc:
            self.add_error(
                None,
                _("%(reason)s Confirm with your code on the step-up page, then save again.")
                % {"reason": exc.message},
            )
        except errors.ValidationError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        except errors.SpotdeskError as exc:
            self.add_error(None, exc.message)
        return cleaned

    def _post_clean(self):
        pass  # the service validated and saved; don't re-validate the saved instance


class OrganizationForm(ServiceModelForm):
    class Meta:
        model = Organization
        fields = ["name", "slug"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _("Derived from the name when left empty.")

    def perform(self):
        if self.instance.pk is None:
            return services.create_organization(
                actor=self.actor,
                name=self.cleaned_data["name"],
                slug=self.cleaned_data.get("slug", ""),
            )
        return services.rename_organization(
            actor=self.actor, organization=self.instance, name=self.cleaned_data["name"]
        )


class MembershipForm(ServiceModelForm):
    class Meta:
        model = Membership
        fields = ["organization", "user", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "organization" in self.fields and self.actor is not None:
            self.fields["organization"].queryset = Organization.objects.for_user(
                self.actor.user, Action.MANAGE
            )

    def perform(self):
        if self.instance.pk is None:
            return services.add_member(
                actor=self.actor,
                organization=self.cleaned_data["organization"],
                user=self.cleaned_data["user"],
                role=self.cleaned_data["role"],
            )
        return services.change_member_role(
            actor=self.actor, membership=self.instance, role=self.cleaned_data["role"]
        )


class ExchangeAccountCreateForm(ServiceModelForm):
    key_type = forms.ChoiceField(label=_("key type"), choices=KeyType.choices)
    api_key = forms.CharField(label=_("API key"), max_length=128)
    secret = forms.CharField(
        label=_("secret"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Write-only: it is encrypted at once and never shown again."),
    )

    class Meta:
        model = ExchangeAccount
        fields = ["organization", "name", "environment", "valuation_currency"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.actor is not None:
            self.fields["organization"].queryset = Organization.objects.for_user(
                self.actor.user, Action.MANAGE
            )
        self.fields["environment"].choices = Environment.choices

    def perform(self):
        data = self.cleaned_data
        return services.create_exchange_account(
            actor=self.actor,
            organization=data["organization"],
            name=data["name"],
            environment=data["environment"],
            valuation_currency=data["valuation_currency"],
            api_key=data["api_key"],
            secret=data["secret"],
            key_type=data["key_type"],
        )


class ExchangeAccountChangeForm(ServiceModelForm):
    class Meta:
        model = ExchangeAccount
        fields = ["name", "valuation_currency"]

    def perform(self):
        return services.update_exchange_account(
            actor=self.actor,
            account=self.instance,
            name=self.cleaned_data["name"],
            valuation_currency=self.cleaned_data["valuation_currency"],
        )


class KeyPairForm(forms.Form):
    key_type = forms.ChoiceField(label=_("key type"), choices=KeyType.choices)
    api_key = forms.CharField(label=_("API key"), max_length=128)
    secret = forms.CharField(
        label=_("secret"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Write-only: it is encrypted at once and never shown again."),
    )
