"""Alerts (what the platform needs a human to know) and where they are sent."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.accounts.scoping import OrganizationScopedQuerySet
from apps.core.crypto.fields import EncryptedSecretField
from apps.core.models import TimeStampedModel


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}


class Alert(TimeStampedModel):
    """An alert of one organization, or of the platform when `organization` is empty
    (platform alerts are visible to cross-organization staff only)."""

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("organization"),
    )
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    event = models.CharField(
        _("event"), max_length=100, db_index=True, help_text=_("Machine-readable event name.")
    )
    message = models.TextField(_("message"))
    context = models.JSONField(_("context"), default=dict, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=64, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["severity", "-created_at"])]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.event}: {self.message[:60]}"


class Channel(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    SLACK = "slack", _("Slack webhook")
    DISCORD = "discord", _("Discord webhook")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Signed webhook")


class NotificationRoute(TimeStampedModel):
    """Where an organization's alerts go: one channel, a severity threshold and an
    event filter. A route without organization is a platform route (ops staff): it
    receives every alert. The channel's secret (bot token, webhook URL, signing key)
    is encrypted at rest and never shown."""

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_routes",
        verbose_name=_("organization"),
        help_text=_("Empty: a platform route, for the alerts of every organization."),
    )
    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    min_severity = models.CharField(
        _("minimum severity"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_('Event names; a trailing "*" matches a prefix. Empty: all.'),
    )
    target = models.JSONField(
        _("target"),
        default=dict,
        blank=True,
        help_text=_("Non-secret settings of the channel: chat id, recipients or URL."),
    )
    secret = EncryptedSecretField(_("secret (encrypted)"), null=True, blank=True)
    secret_mask = models.CharField(_("secret"), max_length=32, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name = _("notification route")
        verbose_name_plural = _("notification routes")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending (collecting repeats)")
    SENDING = "sending", _("Sending")
    RETRYING = "retrying", _("Waiting to retry")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class NotificationDelivery(TimeStampedModel):
    """One message to one route: the alert that opened it plus `count` alerts of the
    same key that joined it (a storm is one message with a count)."""

    route = models.ForeignKey(
        NotificationRoute,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("route"),
    )
    alert = models.ForeignKey(
        Alert,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("alert"),
        help_text=_("Empty for a test message."),
    )
    dedup_key = models.CharField(_("deduplication key"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    count = models.PositiveIntegerField(_("alerts"), default=1)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    first_attempt_at = models.DateTimeField(_("first attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "route__organization"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        constraints = [
            # One open message per route and key: a repeat joins it instead of a new one.
            models.UniqueConstraint(
                fields=["route", "dedup_key"],
                condition=Q(status="pending"),
                name="delivery_one_pending_per_key",
            )
        ]
        indexes = [models.Index(fields=["route", "dedup_key", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.route} · {self.dedup_key} · {self.status}"


class ComplianceReport(TimeStampedModel):
    """One generated compliance report: who asked for which organization and period,
    and its headline totals. The full content is recomputed from the database for each
    download, so it always matches the records it summarises."""

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="compliance_reports",
        verbose_name=_("organization"),
    )
    period_start = models.DateField(_("from"), help_text=_("First UTC day included."))
    period_end = models.DateField(_("to"), help_text=_("Last UTC day included."))
    requested_by = models.CharField(_("requested by"), max_length=150)
    totals = models.JSONField(_("totals"), default=dict)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("compliance report")
        verbose_name_plural = _("compliance reports")

    def __str__(self) -> str:
        return f"{self.organization} {self.period_start}…{self.period_end}"
