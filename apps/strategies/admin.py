"""Strategy configurations in the ops console; every write is a service call."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from apps.accounts.actors import Actor
from apps.accounts.admin import OrganizationScopedAdmin
from apps.accounts.admin_forms import ServiceModelForm
from apps.accounts.models import ExchangeAccount
from apps.accounts.roles import Action
from apps.core import errors

from . import services
from .engine import registry
from .models import StrategyConfig


class StrategyConfigForm(ServiceModelForm):
    strategy = forms.ChoiceField(label=_("strategy"), choices=())
    symbols_text = forms.CharField(
        label=_("symbols"), help_text=_("Comma-separated, e.g. BTCUSDT, ETHUSDT.")
    )
    params = forms.JSONField(
        label=_("parameters"),
        required=False,
        help_text=_("Missing parameters take the strategy's defaults."),
    )

    class Meta:
        model = StrategyConfig
        # No risk profile picker: profiles belong to no organization yet, so a list of
        # them would show other tenants' names (set it through the service).
        fields = ["account", "name", "strategy", "interval", "params"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "strategy" in self.fields:  # read-only (absent) once the config exists
            registered = registry.keys()  # a sorted list (the registry is not a mapping)
            self.fields["strategy"].choices = [(key, key) for key in registered]
        if self.instance.pk:
            self.fields["symbols_text"].initial = ", ".join(self.instance.symbols)
        if "account" in self.fields and self.actor is not None:
            self.fields["account"].queryset = ExchangeAccount.objects.for_user(
                self.actor.user, Action.TRADE
            )

    def perform(self):
        try:
            return self._save()
        except errors.ValidationError as exc:
            # Services name "params.fast" or "symbols[1]": put them on the form field.
            base = exc.field.split(".", 1)[0].split("[", 1)[0]
            exc.field = {"symbols": "symbols_text"}.get(base, base)
            raise

    def _save(self):
        data = self.cleaned_data
        symbols = [s.strip() for s in data["symbols_text"].split(",") if s.strip()]
        if self.instance.pk is None:
            return services.create_strategy_config(
                actor=self.actor,
                account=data["account"],
                name=data["name"],
                strategy=data["strategy"],
                symbols=symbols,
                interval=data["interval"],
                params=data.get("params") or {},
            )
        return services.update_strategy_config(
            actor=self.actor,
            config=self.instance,
            name=data["name"],
            symbols=symbols,
            interval=data["interval"],
            params=data.get("params") or {},
        )


@admin.register(StrategyConfig)
class StrategyConfigAdmin(OrganizationScopedAdmin):
    form = StrategyConfigForm
    list_display = ("name", "account", "strategy", "strategy_version", "interval", "enabled")
    list_filter = ("enabled", "strategy", "interval")
    search_fields = ("name", "account__name")
    list_select_related = ("account",)
    actions = ["pause", "resume"]

    def get_fields(self, request, obj=None):
        fields = ["account", "name", "strategy", "symbols_text", "interval", "params"]
        extra = ["strategy_version", "risk_profile", "enabled", "paused_reason"]
        return fields + extra if obj else fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("account", "strategy", "strategy_version", "risk_profile", "enabled",
                "paused_reason")  # fmt: skip

    def _each(self, request, queryset, operation, done):
        actor = Actor.from_request(request)
        count = 0
        for config in queryset:
            try:
                count += bool(operation(actor=actor, config=config))
            except errors.SpotdeskError as exc:
                self.message_user(request, f"{config}: {exc.message}", messages.ERROR)
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Pause selected strategy configurations"))
    def pause(self, request, queryset):
        self._each(request, queryset, services.pause_strategy_config, _("%(count)d paused."))

    @admin.action(description=_("Resume selected strategy configurations"))
    def resume(self, request, queryset):
        self._each(request, queryset, services.resume_strategy_config, _("%(count)d resumed."))
