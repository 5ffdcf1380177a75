"""The gateway's one table: exchangeInfo snapshots (Redis holds the live copy)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExchangeInfoSnapshot(models.Model):
    """exchangeInfo as fetched, kept so that rules in force at a past time can be read
    back (audits of refused orders) and a cold Redis can be warmed without a request."""

    environment = models.CharField(_("environment"), max_length=16, db_index=True)
    fetched_at = models.DateTimeField(_("fetched at"), auto_now_add=True, db_index=True)
    server_time_ms = models.BigIntegerField(_("exchange server time (ms)"), null=True)
    symbol_count = models.PositiveIntegerField(_("symbols"), default=0)
    payload = models.JSONField(_("exchangeInfo"))

    class Meta:
        verbose_name = _("exchange info snapshot")
        verbose_name_plural = _("exchange info snapshots")
        ordering = ["-fetched_at"]
        get_latest_by = "fetched_at"

    def __str__(self) -> str:
        return f"{self.environment} {self.fetched_at:%Y-%m-%d %H:%M}"
