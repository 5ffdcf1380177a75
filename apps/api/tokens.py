"""Issuing, authenticating and revoking personal API tokens (audited).

A token reads `sdt_<8 prefix chars>_<40 secret chars>`; only its SHA-256 digest and
prefix are stored, so the database never holds a usable token. Creating one needs an
OTP-verified session with a fresh second-factor code: a password alone never yields
a token.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.actors import Actor, require_step_up
from apps.audit.services import record_event
from apps.core.errors import NotFound, PermissionDenied, ValidationError

from .models import ApiToken, Scope
from .token_lookup import usable_token

TOKEN_PREFIX = "sdt_"  # noqa: S105  (a marker to recognise tokens, not a secret)
DEFAULT_DAYS = 90
MAX_DAYS = 365
# last_used_at is written at most this often per token (a write per request is waste).
TOUCH_EVERY = timedelta(seconds=60)


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _generate() -> tuple[str, str]:
    prefix = TOKEN_PREFIX + secrets.token_hex(4)
    return prefix, f"{prefix}_{secrets.token_urlsafe(30)}"


def _audit(action: str, token: ApiToken, actor_user, **changes) -> None:
    record_event(
        action=action,
        actor=actor_user,
        target=token,
        changes={"name": token.name, "prefix": token.prefix, "scope": token.scope, **changes},
    )


@transaction.atomic
def create_token(
    *, actor: Actor, session_verified: bool, name: str, scope: str, days: int = DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """The new token and its plaintext (shown once, never stored)."""
    if actor.system or actor.user is None or not actor.user.is_authenticated:
        raise PermissionDenied("API tokens are created by a signed-in user")
    if not session_verified:
        raise PermissionDenied(
            "API tokens are created only from a session verified with a second factor"
        )
    require_step_up(actor, what="Creating an API token")
    name = (name or "").strip() if isinstance(name, str) else name
    if not isinstance(name, str) or not name:
        raise ValidationError("name", "must not be empty")
    if len(name) > 80:
        raise ValidationError("name", "must be at most 80 characters")
    if scope not in Scope.values:
        raise ValidationError("scope", f"must be one of {', '.join(Scope.values)}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError("days", f"must be a whole number from 1 to {MAX_DAYS}")
    prefix, raw = _generate()
    token = ApiToken.objects.create(
        user=actor.user,
        name=name,
        prefix=prefix,
        digest=digest_of(raw),
        scope=scope,
        expires_at=timezone.now() + timedelta(days=days),
    )
    _audit("api_token.created", token, actor.user, expires_at=token.expires_at.isoformat())
    return token, raw


@transaction.atomic
def revoke_token(*, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens; revoking twice changes nothing."""
    token = ApiToken.objects.owned_by(actor.user).select_for_update().filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"API token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        _audit("api_token.revoked", token, actor.user)
    return token


def authenticate(raw: str, *, ip_address: str | None = None) -> ApiToken | None:
    """The usable token `raw` names (with its user loaded), or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 128:
        return None
    token = usable_token(digest_of(raw))
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # A plain UPDATE: no audit event per request, only the last use is kept.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip_address)
        token.last_used_at, token.last_used_ip = now, ip_address
    return token
