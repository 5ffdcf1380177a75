"""Alerts: what the platform needs a human to know."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")
    CRITICAL = "critical", _("Critical")


class Alert(TimeStampedModel):
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    event = models.CharField(
        _("event"), max_length=100, db_index=True, help_text=_("Machine-readable event name.")
    )
    message = models.TextField(_("message"))
    context = models.JSONField(_("context"), default=dict, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=64, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["severity", "-created_at"])]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.event}: {self.message[:60]}"
