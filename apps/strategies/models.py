"""Per-account strategy configurations. The strategies themselves are the pure engine
(`engine/`); a config says which one runs for an account, on what, with which
parameters (validated by the strategy's own schema)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ExchangeAccount
from apps.accounts.scoping import OrganizationScopedQuerySet
from apps.core.crypto.fields import EncryptedSecretField
from apps.core.models import TimeStampedModel
from apps.marketdata.intervals import Interval
from apps.risk.models import RiskProfile


class StrategyConfig(TimeStampedModel):
    account = models.ForeignKey(
        ExchangeAccount,
        on_delete=models.PROTECT,
        related_name="strategy_configs",
        verbose_name=_("exchange account"),
    )
    name = models.CharField(_("name"), max_length=120)
    strategy = models.CharField(
        _("strategy"), max_length=60, help_text=_("Key of a registered strategy.")
    )
    strategy_version = models.CharField(
        _("strategy version"),
        max_length=20,
        help_text=_("The strategy's version when these parameters were validated."),
    )
    symbols = models.JSONField(_("symbols"), default=list)
    interval = models.CharField(_("interval"), max_length=4, choices=Interval.choices)
    params = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_("Checked by the strategy's schema; defaults filled in."),
    )
    enabled = models.BooleanField(
        _("enabled"), default=False, help_text=_("Paused configs evaluate nothing.")
    )
    paused_reason = models.CharField(_("pause reason"), max_length=255, blank=True)
    risk_profile = models.ForeignKey(
        RiskProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="strategy_configs",
        verbose_name=_("risk profile"),
    )

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "account__organization"

    class Meta:
        ordering = ["account", "name"]
        verbose_name = _("strategy configuration")
        verbose_name_plural = _("strategy configurations")
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="strategy_config_unique_name")
        ]
        indexes = [models.Index(fields=["enabled", "interval"], name="strategy_config_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.strategy} {self.strategy_version})"

    def build_strategy(self):
        """The engine object for these parameters (raises ParameterErrors if invalid)."""
        from .engine import registry

        return registry.create(self.strategy, self.params)


class SignalWebhook(TimeStampedModel):
    """An inbound signal URL of one strategy config. `token` names it in the URL (it
    is not the credential); requests are signed with `secret`, stored encrypted and
    shown once when issued (apps/strategies/webhooks.py)."""

    config = models.OneToOneField(
        StrategyConfig,
        on_delete=models.CASCADE,
        related_name="webhook",
        verbose_name=_("strategy configuration"),
    )
    token = models.CharField(_("URL token"), max_length=64, unique=True)
    secret = EncryptedSecretField(_("signing secret"))
    secret_mask = models.CharField(_("signing secret"), max_length=32, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    secret_rotated_at = models.DateTimeField(_("secret issued at"), null=True, blank=True)
    last_signal_at = models.DateTimeField(_("last accepted signal"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "config__account__organization"

    class Meta:
        verbose_name = _("signal webhook")
        verbose_name_plural = _("signal webhooks")

    def __str__(self) -> str:
        return f"webhook of {self.config_id} ({self.secret_mask})"
