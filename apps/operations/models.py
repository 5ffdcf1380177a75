"""Strategy rollouts: a candidate version of a strategy's parameters tried on part of an
organization's accounts (canary) or on a paper account beside the live configs
(blue-green), then promoted to every account or rolled back."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.scoping import OrganizationScopedQuerySet
from apps.core.models import TimeStampedModel


class RolloutMode(models.TextChoices):
    CANARY = "canary", _("Canary: a fraction of the accounts")
    BLUE_GREEN = "blue_green", _("Blue-green: a paper account beside the live configs")


class RolloutState(models.TextChoices):
    RUNNING = "running", _("Running")
    PROMOTED = "promoted", _("Promoted")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class MemberRole(models.TextChoices):
    CANARY = "canary", _("Canary (runs the candidate)")
    CONTROL = "control", _("Control (keeps the current version)")
    CANDIDATE = "candidate", _("Paper candidate (blue-green)")


class Rollout(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="rollouts",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=120)
    strategy = models.CharField(_("strategy"), max_length=60)
    mode = models.CharField(_("mode"), max_length=12, choices=RolloutMode.choices)
    fraction = models.DecimalField(
        _("canary fraction"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Share of the accounts that run the candidate (canary only)."),
    )
    candidate_params = models.JSONField(_("candidate parameters"), default=dict)
    candidate_version = models.CharField(_("candidate strategy version"), max_length=20)
    state = models.CharField(
        _("state"), max_length=12, choices=RolloutState.choices, default=RolloutState.RUNNING
    )
    started_by = models.CharField(_("started by"), max_length=150)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    finished_by = models.CharField(_("finished by"), max_length=150, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("strategy rollout")
        verbose_name_plural = _("strategy rollouts")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="rollout_unique_name"),
            # One experiment per strategy at a time: two would change the same configs.
            models.UniqueConstraint(
                fields=["organization", "strategy"],
                condition=models.Q(state="running"),
                name="rollout_one_running_per_strategy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.strategy} {self.get_mode_display()})"


class RolloutMember(TimeStampedModel):
    """One strategy config in a rollout, with what it ran before the rollout touched it."""

    rollout = models.ForeignKey(
        Rollout, on_delete=models.CASCADE, related_name="members", verbose_name=_("rollout")
    )
    config = models.ForeignKey(
        "strategies.StrategyConfig",
        on_delete=models.PROTECT,
        related_name="rollout_memberships",
        verbose_name=_("strategy configuration"),
    )
    role = models.CharField(_("role"), max_length=10, choices=MemberRole.choices)
    previous_params = models.JSONField(_("previous parameters"), default=dict)
    previous_version = models.CharField(_("previous strategy version"), max_length=20)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "rollout__organization"

    class Meta:
        ordering = ["rollout", "role", "config"]
        verbose_name = _("rollout member")
        verbose_name_plural = _("rollout members")
        constraints = [
            models.UniqueConstraint(fields=["rollout", "config"], name="rollout_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.config} ({self.get_role_display()})"
