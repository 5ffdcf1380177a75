"""Organizations, memberships, exchange accounts and their API key pairs."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.crypto.fields import EncryptedSecretField
from apps.core.models import TimeStampedModel

from .roles import Role
from .scoping import OrganizationScopedQuerySet


class Organization(TimeStampedModel):
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = ""  # the organization is its own scope

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        permissions = [
            ("access_all_organizations", _("Can access every organization (platform staff)")),
            ("manage_organization", _("Can manage members and keys of any organization")),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["organization__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class Environment(models.TextChoices):
    LIVE = "live", _("Live")
    TESTNET = "testnet", _("Testnet")
    DEMO = "demo", _("Demo")
    PAPER = "paper", _("Paper")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    HALTED = "halted", _("Halted")
    DISABLED = "disabled", _("Disabled")


currency_code = RegexValidator(r"^[A-Z0-9]{2,12}$", _("Use an asset symbol such as USDT."))


class ExchangeAccount(TimeStampedModel):
    """One Binance Spot account. Its environment is fixed at creation: paper history
    never mixes with live money (services refuse a change and so does the database)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="exchange_accounts",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=120)
    environment = models.CharField(
        _("environment"),
        max_length=10,
        choices=Environment.choices,
        help_text=_("Fixed at creation."),
    )
    valuation_currency = models.CharField(
        _("valuation currency"), max_length=12, default="USDT", validators=[currency_code]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AccountStatus.choices, default=AccountStatus.PAUSED
    )
    permissions = models.JSONField(
        _("permissions snapshot"),
        default=dict,
        blank=True,
        help_text=_("The key's permissions as the exchange reported them at verification."),
    )
    permissions_verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    keys_rotated_at = models.DateTimeField(_("keys rotated at"), null=True, blank=True)
    live_approved_at = models.DateTimeField(
        _("live trading approved at"),
        null=True,
        blank=True,
        help_text=_("A live account trades only after a risk officer approved it."),
    )
    live_approved_by = models.CharField(_("live trading approved by"), max_length=150, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name = _("exchange account")
        verbose_name_plural = _("exchange accounts")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="account_unique_name")
        ]
        permissions = [
            ("operate_exchangeaccount", _("Can pause, resume and kill any exchange account")),
            ("halt_exchangeaccount", _("Can halt and un-halt any exchange account")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_environment_display()})"

    @property
    def active_key(self) -> "ApiKeyPair | None":
        return self.key_pairs.filter(state=KeyState.ACTIVE).first()


class KeyType(models.TextChoices):
    HMAC = "hmac", _("HMAC secret")
    ED25519 = "ed25519", _("Ed25519 private key")


class KeyState(models.TextChoices):
    PENDING = "pending", _("Pending (added beside the active key)")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired (secret erased)")


class ApiKeyPair(TimeStampedModel):
    """An API key and its encrypted secret. At most one active and one pending per
    account: rotation adds a pending pair, then promotes it in one audited action."""

    account = models.ForeignKey(
        ExchangeAccount,
        on_delete=models.CASCADE,
        related_name="key_pairs",
        verbose_name=_("exchange account"),
    )
    key_type = models.CharField(_("key type"), max_length=10, choices=KeyType.choices)
    api_key = models.CharField(_("API key"), max_length=128)
    api_key_mask = models.CharField(_("API key"), max_length=16)
    secret = EncryptedSecretField(_("secret (encrypted)"), null=True, blank=True)
    secret_mask = models.CharField(_("secret"), max_length=16)
    state = models.CharField(_("state"), max_length=10, choices=KeyState.choices)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "account__organization"

    class Meta:
        ordering = ["account", "-created_at"]
        verbose_name = _("API key pair")
        verbose_name_plural = _("API key pairs")
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(state="active"), name="key_one_active_per_account"
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(state="pending"), name="key_one_pending_per_account"
            ),
            models.CheckConstraint(
                condition=Q(state="retired") | Q(secret__isnull=False),
                name="key_secret_present_unless_retired",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.api_key_mask} ({self.get_state_display()})"
