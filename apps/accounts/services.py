"""Writes for organizations, memberships, exchange accounts and keys.

Every function takes keyword-only arguments and an `Actor`, checks the actor's role
through the scoping rules, validates input before touching anything, and writes its
audit event in the same transaction as the change. Secrets enter as plain strings,
are sealed at once and never reach an audit payload, a log line or an exception.
"""

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.services import diff, record_event
from apps.core.crypto.fields import SealedSecret, mask
from apps.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError

from .actors import Actor, require_step_up
from .credentials import ExchangeCredentials, credentials_for_key, verify_credentials
from .models import (
    AccountStatus,
    ApiKeyPair,
    Environment,
    ExchangeAccount,
    KeyState,
    KeyType,
    Membership,
    Organization,
)
from .roles import Action, Role
from .scoping import has_cross_organization_access

# Sent after an account's status changed (inside the transaction); later issues connect
# the kill switch's order cancellation and the cycles' pause here.
account_status_changed = Signal()

_CURRENCY = re.compile(r"^[A-Z0-9]{2,12}$")
_API_KEY = re.compile(r"^[A-Za-z0-9_\-+/=]{16,128}$")


# --- authorisation ----------------------------------------------------------------


def _authorize(actor: Actor, obj, action: str):
    """Reload `obj` through the actor's scope and lock it; NotFound hides other tenants."""
    if actor.system:
        return type(obj).objects.select_for_update().get(pk=obj.pk)
    model = type(obj)
    if not model.objects.for_user(actor.user, Action.VIEW).filter(pk=obj.pk).exists():
        raise NotFound(f"{model._meta.verbose_name} {obj.pk} does not exist")
    scoped = model.objects.for_user(actor.user, action)
    locked = scoped.select_for_update(of=("self",)).filter(pk=obj.pk)
    found = locked.first()
    if found is None:
        raise PermissionDenied(
            f"your role does not allow '{action}' on {model._meta.verbose_name} {obj.pk}"
        )
    return found


def _require_platform_manager(actor: Actor) -> None:
    if not (actor.system or has_cross_organization_access(actor.user, Action.MANAGE)):
        raise PermissionDenied("only platform staff may create organizations")


def _text(field: str, value, *, max_length: int) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError(field, "must be text")
    value = (value or "").strip()
    if not value:
        raise ValidationError(field, "must not be empty")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return value


def _choice(field: str, value, choices) -> str:
    if value not in choices.values:
        raise ValidationError(field, f"must be one of {', '.join(choices.values)}")
    return value


# --- organizations and members ----------------------------------------------------


@transaction.atomic
def create_organization(*, actor: Actor, name: str, slug: str = "") -> Organization:
    _require_platform_manager(actor)
    name = _text("name", name, max_length=120)
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationError("slug", "must contain letters or digits")
    if Organization.objects.filter(name=name).exists():
        raise ValidationError("name", "must be unique: an organization with this name exists")
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError("slug", "must be unique: an organization with this slug exists")
    organization = Organization.objects.create(name=name, slug=slug)
    record_event(
        action="organization.created",
        actor=actor.user,
        organization_id=organization.pk,
        target=organization,
        changes={"name": {"before": None, "after": name}, "slug": {"before": None, "after": slug}},
    )
    return organization


@transaction.atomic
def rename_organization(*, actor: Actor, organization: Organization, name: str) -> Organization:
    organization = _authorize(actor, organization, Action.MANAGE)
    name = _text("name", name, max_length=120)
    if Organization.objects.exclude(pk=organization.pk).filter(name=name).exists():
        raise ValidationError("name", "must be unique: an organization with this name exists")
    before = organization.name
    organization.name = name
    organization.save(update_fields=["name", "updated_at"])
    record_event(
        action="organization.updated",
        actor=actor.user,
        organization_id=organization.pk,
        target=organization,
        changes=diff({"name": before}, {"name": name}),
    )
    return organization


def _admins_left(organization: Organization, *, excluding: Membership) -> int:
    return (
        Membership.objects.filter(organization=organization, role=Role.ADMIN)
        .exclude(pk=excluding.pk)
        .count()
    )


@transaction.atomic
def add_member(*, actor: Actor, organization: Organization, user, role: str) -> Membership:
    organization = _authorize(actor, organization, Action.MANAGE)
    require_step_up(actor, what="Adding a member")
    role = _choice("role", role, Role)
    if not isinstance(user, get_user_model()) or user.pk is None:
        raise ValidationError("user", "must be an existing user")
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise ValidationError("user", "is already a member of this organization")
    membership = Membership.objects.create(organization=organization, user=user, role=role)
    record_event(
        action="membership.created",
        actor=actor.user,
        organization_id=organization.pk,
        target=membership,
        changes={
            "user": {"before": None, "after": user.get_username()},
            "role": {"before": None, "after": role},
        },
    )
    return membership


@transaction.atomic
def change_member_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    membership = _authorize(actor, membership, Action.MANAGE)
    require_step_up(actor, what="Changing a member's role")
    role = _choice("role", role, Role)
    before = membership.role
    if (
        before == Role.ADMIN
        and role != Role.ADMIN
        and not _admins_left(membership.organization, excluding=membership)
    ):
        raise ConflictError("an organization keeps at least one admin")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    record_event(
        action="membership.updated",
        actor=actor.user,
        organization_id=membership.organization_id,
        target=membership,
        changes={"user": membership.user.get_username(), **diff({"role": before}, {"role": role})},
    )
    return membership


@transaction.atomic
def remove_member(*, actor: Actor, membership: Membership) -> None:
    membership = _authorize(actor, membership, Action.MANAGE)
    require_step_up(actor, what="Removing a member")
    if membership.role == Role.ADMIN and not _admins_left(
        membership.organization, excluding=membership
    ):
        raise ConflictError("an organization keeps at least one admin")
    record_event(
        action="membership.deleted",
        actor=actor.user,
        organization_id=membership.organization_id,
        target=membership,
        changes={
            "user": {"before": membership.user.get_username(), "after": None},
            "role": {"before": membership.role, "after": None},
        },
    )
    membership.delete()


# --- exchange accounts ------------------------------------------------------------


def _account_snapshot(account: ExchangeAccount) -> dict:
    return {
        "name": account.name,
        "environment": account.environment,
        "valuation_currency": account.valuation_currency,
        "status": account.status,
    }


def _validated_key(*, api_key: str, secret: str, key_type: str) -> tuple[str, str, str]:
    # Rules are stated without echoing the value: a mistyped secret is still a secret.
    key_type = _choice("key_type", key_type, KeyType)
    if not isinstance(api_key, str) or not _API_KEY.match(api_key.strip()):
        raise ValidationError("api_key", "must be 16-128 letters, digits or -_+/=")
    if not isinstance(secret, str) or len(secret.strip()) < 16:
        raise ValidationError("secret", "must be at least 16 characters")
    if len(secret) > 4096:
        raise ValidationError("secret", "must be at most 4096 characters")
    return api_key.strip(), secret.strip(), key_type


@transaction.atomic
def create_exchange_account(
    *,
    actor: Actor,
    organization: Organization,
    name: str,
    environment: str,
    api_key: str,
    secret: str,
    key_type: str = KeyType.HMAC,
    valuation_currency: str = "USDT",
) -> ExchangeAccount:
    organization = _authorize(actor, organization, Action.MANAGE)
    require_step_up(actor, what="Adding an exchange account with keys")
    name = _text("name", name, max_length=120)
    environment = _choice("environment", environment, Environment)
    if not _CURRENCY.match(valuation_currency or ""):
        raise ValidationError("valuation_currency", "must be an asset symbol such as USDT")
    api_key, secret, key_type = _validated_key(api_key=api_key, secret=secret, key_type=key_type)
    if ExchangeAccount.objects.filter(organization=organization, name=name).exists():
        raise ValidationError("name", "must be unique within the organization")
    account = ExchangeAccount.objects.create(
        organization=organization,
        name=name,
        environment=environment,
        valuation_currency=valuation_currency,
        status=AccountStatus.PAUSED,
    )
    record_event(
        action="exchange_account.created",
        actor=actor.user,
        organization_id=organization.pk,
        target=account,
        changes=diff({}, _account_snapshot(account)),
    )
    _store_key_pair(
        actor=actor,
        account=account,
        api_key=api_key,
        secret=secret,
        key_type=key_type,
        state=KeyState.ACTIVE,
    )
    return account


@transaction.atomic
def restore_exchange_account(
    *,
    actor: Actor,
    organization: Organization,
    name: str,
    environment: str,
    valuation_currency: str = "USDT",
) -> ExchangeAccount:
    """An account restored from a configuration backup, which never holds keys: paused
    and keyless, so it cannot trade until someone adds its key pair (`add_key_pair`)."""
    organization = _authorize(actor, organization, Action.MANAGE)
    require_step_up(actor, what="Restoring an exchange account")
    name = _text("name", name, max_length=120)
    environment = _choice("environment", environment, Environment)
    if not _CURRENCY.match(valuation_currency or ""):
        raise ValidationError("valuation_currency", "must be an asset symbol such as USDT")
    if ExchangeAccount.objects.filter(organization=organization, name=name).exists():
        raise ValidationError("name", "must be unique within the organization")
    account = ExchangeAccount.objects.create(
        organization=organization,
        name=name,
        environment=environment,
        valuation_currency=valuation_currency,
        status=AccountStatus.PAUSED,
    )
    record_event(
        action="exchange_account.restored",
        actor=actor.user,
        organization_id=organization.pk,
        target=account,
        changes=diff({}, _account_snapshot(account)),
    )
    return account


@transaction.atomic
def update_exchange_account(
    *,
    actor: Actor,
    account: ExchangeAccount,
    name: str | None = None,
    valuation_currency: str | None = None,
    environment: str | None = None,
) -> ExchangeAccount:
    account = _authorize(actor, account, Action.MANAGE)
    if environment is not None and environment != account.environment:
        raise ValidationError(
            "environment", "is fixed at creation: create a new account for another environment"
        )
    before = _account_snapshot(account)
    if name is not None:
        name = _text("name", name, max_length=120)
        taken = ExchangeAccount.objects.filter(organization_id=account.organization_id, name=name)
        if taken.exclude(pk=account.pk).exists():
            raise ValidationError("name", "must be unique within the organization")
        account.name = name
    if valuation_currency is not None:
        if not _CURRENCY.match(valuation_currency):
            raise ValidationError("valuation_currency", "must be an asset symbol such as USDT")
        account.valuation_currency = valuation_currency
    changes = diff(before, _account_snapshot(account))
    if changes:
        account.save(update_fields=["name", "valuation_currency", "updated_at"])
        record_event(
            action="exchange_account.updated",
            actor=actor.user,
            organization_id=account.organization_id,
            target=account,
            changes=changes,
        )
    return account


# --- account status: pause, resume, halt, un-halt, kill, disable -------------------


def _set_status(actor: Actor, account: ExchangeAccount, status: str, action: str, **extra):
    before = account.status
    account.status = status
    account.save(update_fields=["status", "updated_at"])
    record_event(
        action=action,
        actor=actor.user,
        organization_id=account.organization_id,
        target=account,
        changes={**diff({"status": before}, {"status": status}), **extra},
    )
    account_status_changed.send(
        sender=ExchangeAccount, account=account, before=before, after=status, action=action
    )
    return account


def _require_status(account: ExchangeAccount, allowed: set[str], verb: str) -> None:
    if account.status not in allowed:
        raise ConflictError(f"cannot {verb} an account that is {account.status}")


@transaction.atomic
def pause_account(*, actor: Actor, account: ExchangeAccount) -> ExchangeAccount:
    account = _authorize(actor, account, Action.TRADE)
    _require_status(account, {AccountStatus.ACTIVE}, "pause")
    return _set_status(actor, account, AccountStatus.PAUSED, "exchange_account.paused")


def _require_live_approval(account: ExchangeAccount) -> None:
    if account.environment == Environment.LIVE and account.live_approved_at is None:
        raise ConflictError("a risk officer must approve live trading before this account runs")


@transaction.atomic
def approve_live(*, actor: Actor, account: ExchangeAccount) -> ExchangeAccount:
    """A risk officer lets a live account trade real money (audited, step-up)."""
    account = _authorize(actor, account, Action.RISK)
    require_step_up(actor, what="Approving live trading")
    if account.environment != Environment.LIVE:
        raise ConflictError("only live accounts need an approval to trade")
    if account.live_approved_at is not None:
        return account
    account.live_approved_at = timezone.now()
    account.live_approved_by = actor.username
    account.save(update_fields=["live_approved_at", "live_approved_by", "updated_at"])
    record_event(
        action="exchange_account.live_approved",
        actor=actor.user,
        organization_id=account.organization_id,
        target=account,
        changes={"live_approved_by": {"before": "", "after": account.live_approved_by}},
    )
    return account


@transaction.atomic
def resume_account(*, actor: Actor, account: ExchangeAccount) -> ExchangeAccount:
    """Paused → active for traders; halted → active is an un-halt: risk role and step-up.
    A live account runs only once a risk officer approved it."""
    account = _authorize(actor, account, Action.VIEW)
    _require_live_approval(account)
    if account.status == AccountStatus.HALTED:
        account = _authorize(actor, account, Action.RISK)
        require_step_up(actor, what="Resuming a halted account")
    else:
        account = _authorize(actor, account, Action.TRADE)
        _require_status(account, {AccountStatus.PAUSED}, "resume")
    return _set_status(actor, account, AccountStatus.ACTIVE, "exchange_account.resumed")


@transaction.atomic
def halt_account(*, actor: Actor, account: ExchangeAccount, reason: str = "") -> ExchangeAccount:
    account = _authorize(actor, account, Action.RISK)
    _require_status(account, {AccountStatus.ACTIVE, AccountStatus.PAUSED}, "halt")
    return _set_status(
        actor, account, AccountStatus.HALTED, "exchange_account.halted", reason=reason[:500]
    )


@transaction.atomic
def unhalt_account(*, actor: Actor, account: ExchangeAccount) -> ExchangeAccount:
    """Halted → paused: trading restarts only when someone resumes it."""
    account = _authorize(actor, account, Action.RISK)
    require_step_up(actor, what="Un-halting an account")
    _require_status(account, {AccountStatus.HALTED}, "un-halt")
    return _set_status(actor, account, AccountStatus.PAUSED, "exchange_account.unhalted")


@transaction.atomic
def kill_account(*, actor: Actor, account: ExchangeAccount, confirm: bool) -> ExchangeAccount:
    """The emergency brake: any member who sees the account, no step-up, but confirmed."""
    if confirm is not True:
        raise ValidationError("confirm", "must be true: the kill switch halts the account now")
    account = _authorize(actor, account, Action.KILL)
    if account.status in (AccountStatus.HALTED, AccountStatus.DISABLED):
        return account  # already stopped; pressing again changes nothing
    return _set_status(actor, account, AccountStatus.HALTED, "exchange_account.killed")


@transaction.atomic
def disable_account(*, actor: Actor, account: ExchangeAccount) -> ExchangeAccount:
    account = _authorize(actor, account, Action.MANAGE)
    require_step_up(actor, what="Disabling an account")
    _require_status(
        account, {AccountStatus.ACTIVE, AccountStatus.PAUSED, AccountStatus.HALTED}, "disable"
    )
    return _set_status(actor, account, AccountStatus.DISABLED, "exchange_account.disabled")


# --- API keys ---------------------------------------------------------------------


def _key_audit(key_pair: ApiKeyPair) -> dict:
    return {
        "key_pair_id": key_pair.pk,
        "key_type": key_pair.key_type,
        "api_key_mask": key_pair.api_key_mask,
        "secret_mask": key_pair.secret_mask,
        "state": key_pair.state,
    }


def _verify_new_key(account, *, api_key: str, secret: str, key_type: str):
    """The exchange's verdict before anything is stored (None without a verifier).

    A refusal names the api_key field; the exchange's reason never contains the secret.
    """
    result = verify_credentials(
        ExchangeCredentials(
            account_id=account.pk,
            key_pair_id=None,
            environment=account.environment,
            key_type=key_type,
            api_key=api_key,
            secret=secret,
        )
    )
    if result is not None and not result.accepted:
        raise ValidationError("api_key", result.message or "was refused by the exchange")
    return result


def _keep_permissions(account, result) -> None:
    account.permissions = result.permissions
    account.permissions_verified_at = timezone.now()
    account.save(update_fields=["permissions", "permissions_verified_at", "updated_at"])


def _store_key_pair(*, actor, account, api_key, secret, key_type, state) -> ApiKeyPair:
    result = _verify_new_key(account, api_key=api_key, secret=secret, key_type=key_type)
    try:
        with transaction.atomic():
            key_pair = ApiKeyPair.objects.create(
                account=account,
                key_type=key_type,
                api_key=api_key,
                api_key_mask=mask(api_key),
                secret=SealedSecret.seal(secret),
                secret_mask=mask(secret),
                state=state,
                activated_at=timezone.now() if state == KeyState.ACTIVE else None,
            )
    except IntegrityError:
        raise ConflictError(
            "this account already has a pending key pair: promote or discard it first"
        ) from None
    if result is not None and state == KeyState.ACTIVE:
        _keep_permissions(account, result)
    record_event(
        action="api_key.added",
        actor=actor.user,
        organization_id=account.organization_id,
        target=key_pair,
        changes={**_key_audit(key_pair), "verified": result is not None},
    )
    return key_pair


@transaction.atomic
def add_key_pair(
    *, actor: Actor, account: ExchangeAccount, api_key: str, secret: str, key_type: str
) -> ApiKeyPair:
    """Add a key pair beside the active one (pending), or as the active one if none."""
    account = _authorize(actor, account, Action.MANAGE)
    require_step_up(actor, what="Adding an API key")
    api_key, secret, key_type = _validated_key(api_key=api_key, secret=secret, key_type=key_type)
    has_active = account.key_pairs.filter(state=KeyState.ACTIVE).exists()
    return _store_key_pair(
        actor=actor,
        account=account,
        api_key=api_key,
        secret=secret,
        key_type=key_type,
        state=KeyState.PENDING if has_active else KeyState.ACTIVE,
    )


def _erase(key_pair: ApiKeyPair, now) -> None:
    key_pair.state = KeyState.RETIRED
    key_pair.secret = None  # the ciphertext leaves storage; only the masks remain
    key_pair.retired_at = now
    key_pair.save(update_fields=["state", "secret", "retired_at", "updated_at"])


@transaction.atomic
def promote_key_pair(*, actor: Actor, key_pair: ApiKeyPair) -> ApiKeyPair:
    """Make a pending pair active and erase the old one, in one audited transaction.

    Clients built before this commit hold their decrypted credentials and finish their
    calls with the old key; clients built afterwards load the new one.
    """
    key_pair = _authorize(actor, key_pair, Action.MANAGE)
    require_step_up(actor, what="Promoting an API key")
    if key_pair.state != KeyState.PENDING:
        raise ConflictError(
            f"only a pending key pair can be promoted (this one is {key_pair.state})"
        )
    account = ExchangeAccount.objects.select_for_update().get(pk=key_pair.account_id)
    now = timezone.now()
    old = ApiKeyPair.objects.filter(account=account, state=KeyState.ACTIVE).first()
    if old is not None:
        _erase(old, now)  # first, so the one-active-key constraint holds at every step
    key_pair.state = KeyState.ACTIVE
    key_pair.activated_at = now
    key_pair.save(update_fields=["state", "activated_at", "updated_at"])
    account.keys_rotated_at = now
    account.save(update_fields=["keys_rotated_at", "updated_at"])
    record_event(
        action="api_key.promoted",
        actor=actor.user,
        organization_id=account.organization_id,
        target=key_pair,
        changes={
            "active_key": {
                "before": old.api_key_mask if old else None,
                "after": key_pair.api_key_mask,
            },
            "retired_key_pair_id": old.pk if old else None,
        },
    )
    return key_pair


@transaction.atomic
def discard_key_pair(*, actor: Actor, key_pair: ApiKeyPair) -> ApiKeyPair:
    key_pair = _authorize(actor, key_pair, Action.MANAGE)
    require_step_up(actor, what="Discarding an API key")
    if key_pair.state != KeyState.PENDING:
        raise ConflictError("only a pending key pair can be discarded; rotate the active one")
    _erase(key_pair, timezone.now())
    record_event(
        action="api_key.discarded",
        actor=actor.user,
        organization_id=key_pair.account.organization_id,
        target=key_pair,
        changes=_key_audit(key_pair),
    )
    return key_pair


@transaction.atomic
def record_key_verification(*, key_pair: ApiKeyPair) -> ExchangeAccount | None:
    """Re-verify a stored active key (e.g. periodically) and keep the permissions snapshot."""
    result = verify_credentials(credentials_for_key(key_pair))
    if result is None:
        return None
    account = ExchangeAccount.objects.select_for_update().get(pk=key_pair.account_id)
    before = account.permissions
    _keep_permissions(account, result)
    record_event(
        action="api_key.verified",
        organization_id=account.organization_id,
        target=account,
        changes={
            **diff({"permissions": before}, {"permissions": result.permissions}),
            "accepted": result.accepted,
        },
    )
    return account
