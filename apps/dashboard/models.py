"""Per-user dashboard preferences: the overview's widget layout, the onboarding tour and
the language."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


def empty_layout() -> dict:
    return {"order": [], "hidden": []}


class DashboardPreferences(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dashboard_preferences",
        verbose_name=_("user"),
    )
    # {"order": [widget ids, first on top], "hidden": [widget ids]}; ids the page does
    # not know (a widget removed since) are ignored there, so old layouts stay valid.
    layout = models.JSONField(_("widget layout"), default=empty_layout, blank=True)
    tour_completed_at = models.DateTimeField(_("tour completed at"), null=True, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        help_text=_("The user's language on every device (empty: the browser's)."),
    )

    class Meta:
        verbose_name = _("dashboard preferences")
        verbose_name_plural = _("dashboard preferences")

    def __str__(self) -> str:
        return str(self.user)
