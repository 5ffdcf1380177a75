"""Personal API tokens: stored as a SHA-256 hash, shown once, scoped, expiring, revocable.

A token belongs to a user, not to an organization: it acts with the user's roles,
limited further by its scope. Only its prefix is kept readable, to tell tokens apart.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


class Scope(models.TextChoices):
    """Levels, each including the ones before it."""

    READ = "read", _("Read")
    TRADE = "trade", _("Read and trade")
    ADMIN = "admin", _("Read, trade and administer")


SCOPE_LEVEL = {Scope.READ: 0, Scope.TRADE: 1, Scope.ADMIN: 2}


class ApiTokenQuerySet(models.QuerySet):
    def owned_by(self, user) -> models.QuerySet:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def usable(self) -> models.QuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=80, help_text=_("What the token is for."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def allows(self, scope: str) -> bool:
        return SCOPE_LEVEL[Scope(self.scope)] >= SCOPE_LEVEL[Scope(scope)]
