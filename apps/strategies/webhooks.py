"""Signal webhooks: a strategy config driven from outside (TradingView alerts, a
trader's own models).

Services (keyword-only, scoped, audited) issue, rotate and disable a config's webhook;
the secret is returned once and kept encrypted. `verify_request` checks a request's
signature, age and nonce; `parse_signal` validates its JSON body. The HTTP view is
`apps/api/webhooks.py`; the evaluation (risk, execution, decision) is
`apps/trading/webhook_signals.py`.

Signature: hex HMAC-SHA256 with the secret over `<timestamp>.<nonce>.<raw body>`,
sent as `X-Spotdesk-Signature: sha256=<hex>` with `X-Spotdesk-Timestamp` (Unix
seconds) and `X-Spotdesk-Nonce` (8-64 characters, unique per request).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.actors import Actor
from apps.accounts.roles import Action
from apps.audit.services import record_event
from apps.core.crypto.fields import SealedSecret, mask
from apps.core.errors import ConflictError, ValidationError

from .models import SignalWebhook, StrategyConfig
from .services import _authorize
from .webhook_credentials import webhook_secret

SIGNATURE_HEADER = "X-Spotdesk-Signature"
TIMESTAMP_HEADER = "X-Spotdesk-Timestamp"
NONCE_HEADER = "X-Spotdesk-Nonce"
MAX_BODY_BYTES = 8192
_NONCE = re.compile(r"^[A-Za-z0-9_\-:.]{8,64}$")
ACTIONS = ("buy", "sell", "exit")
_FIELDS = {"action", "symbol", "stop", "target", "price", "comment"}


def window_seconds() -> int:
    """How far a request's timestamp may be from our clock (either way)."""
    return int(getattr(settings, "SIGNAL_WEBHOOK_WINDOW_SECONDS", 30))


# --- issuing, rotating, disabling ------------------------------------------------


@dataclass(frozen=True)
class IssuedWebhook:
    webhook: SignalWebhook
    secret: str  # shown to the caller once; never stored in plain text

    @property
    def path(self) -> str:
        return f"/api/webhooks/signals/{self.webhook.token}/"


def _new_secret() -> tuple[SealedSecret, str, str]:
    plaintext = "whsec_" + secrets.token_urlsafe(32)
    return SealedSecret.seal(plaintext), plaintext, mask(plaintext)


@transaction.atomic
def enable_webhook(*, actor: Actor, config: StrategyConfig) -> IssuedWebhook:
    """Give `config` a webhook URL and a new secret (trade role). Enabling a disabled
    webhook issues a new secret; an enabled one must be rotated instead."""
    config = _authorize(actor, config, Action.TRADE)
    sealed, plaintext, shown = _new_secret()
    webhook = SignalWebhook.objects.select_for_update().filter(config=config).first()
    if webhook is not None and webhook.enabled:
        raise ConflictError("the webhook is already enabled: rotate its secret instead")
    if webhook is None:
        webhook = SignalWebhook(config=config, token=secrets.token_urlsafe(24))
    webhook.secret, webhook.secret_mask, webhook.enabled = sealed, shown, True
    webhook.secret_rotated_at = timezone.now()
    webhook.save()
    _audit(actor, config, "strategy_config.webhook_enabled", {"secret": shown})
    return IssuedWebhook(webhook, plaintext)


@transaction.atomic
def rotate_webhook_secret(*, actor: Actor, config: StrategyConfig) -> IssuedWebhook:
    """A new secret at once; requests signed with the old one are refused from now."""
    config = _authorize(actor, config, Action.TRADE)
    webhook = SignalWebhook.objects.select_for_update().filter(config=config, enabled=True).first()
    if webhook is None:
        raise ConflictError("the config has no enabled webhook: enable one first")
    before = webhook.secret_mask
    webhook.secret, plaintext, webhook.secret_mask = _new_secret()
    webhook.secret_rotated_at = timezone.now()
    webhook.save()
    _audit(
        actor,
        config,
        "strategy_config.webhook_rotated",
        {"secret": {"before": before, "after": webhook.secret_mask}},
    )
    return IssuedWebhook(webhook, plaintext)


@transaction.atomic
def disable_webhook(*, actor: Actor, config: StrategyConfig) -> bool:
    """Refuse every request from now on; False when there was nothing enabled."""
    config = _authorize(actor, config, Action.TRADE)
    changed = SignalWebhook.objects.filter(config=config, enabled=True).update(
        enabled=False, updated_at=timezone.now()
    )
    if changed:
        _audit(actor, config, "strategy_config.webhook_disabled", {})
    return bool(changed)


def _audit(actor: Actor, config: StrategyConfig, action: str, changes: dict) -> None:
    record_event(
        action=action,
        actor=actor.user,
        organization_id=config.account.organization_id,
        target=config,
        changes=changes,
    )


# --- verifying a request -----------------------------------------------------------


class Refused(Exception):
    """A request that must not be evaluated: `status` (401/409), `code`, `message`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}.{nonce}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_request(
    webhook: SignalWebhook, *, body: bytes, headers, redis, now: float | None = None
) -> str:
    """Check signature, age and nonce, in that order (a nonce is spent only by a
    correctly signed request); returns the nonce. Raises Refused."""
    given = headers.get(SIGNATURE_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    nonce = headers.get(NONCE_HEADER, "")
    if not given or not timestamp or not nonce:
        raise Refused(
            401,
            "signature_missing",
            f"{SIGNATURE_HEADER}, {TIMESTAMP_HEADER} and {NONCE_HEADER} are required",
        )
    if not _NONCE.match(nonce):
        raise Refused(401, "signature_invalid", f"{NONCE_HEADER} must be 8-64 URL-safe characters")
    expected = "sha256=" + signature(webhook_secret(webhook), timestamp, nonce, body)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused(401, "signature_invalid", "the signature does not match the body")
    now = time.time() if now is None else now
    try:
        sent = int(timestamp)
    except ValueError:
        raise Refused(401, "stale_request", f"{TIMESTAMP_HEADER} must be Unix seconds") from None
    window = window_seconds()
    if abs(now - sent) > window:
        raise Refused(
            401, "stale_request", f"the timestamp is {int(now - sent)} s off (window {window} s)"
        )
    # Remembered for twice the window: a replay after that is refused as stale anyway.
    if not redis.set(f"webhook:nonce:{webhook.pk}:{nonce}", "1", nx=True, ex=2 * window):
        raise Refused(409, "replayed_request", "this nonce was used already")
    return nonce


# --- the signal in the body ----------------------------------------------------------


@dataclass(frozen=True)
class WebhookSignal:
    action: str  # buy, sell or exit
    symbol: str
    stop: Decimal | None
    target: Decimal | None
    price: Decimal | None  # the sender's reference price

    def as_task_args(self) -> dict:
        """Plain values for a Celery task (Decimals as strings)."""
        return {
            "action": self.action,
            "symbol": self.symbol,
            **{
                name: None if getattr(self, name) is None else str(getattr(self, name))
                for name in ("stop", "target", "price")
            },
        }


def _price(payload: dict, name: str) -> Decimal | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValidationError(name, "must be a decimal number or string")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(name, "must be a decimal number or string") from None
    if not number.is_finite() or number <= 0:
        raise ValidationError(name, "must be greater than 0")
    return number


def parse_signal(body: bytes, *, config: StrategyConfig) -> WebhookSignal:
    """The JSON body as a signal for `config`; ValidationError names the field."""
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError("body", f"must be at most {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("body", "must be a JSON object") from None
    if not isinstance(payload, dict):
        raise ValidationError("body", "must be a JSON object")
    unknown = sorted(set(payload) - _FIELDS)
    if unknown:
        raise ValidationError(unknown[0], f"is not a signal field ({', '.join(sorted(_FIELDS))})")
    action = payload.get("action")
    if action not in ACTIONS:
        raise ValidationError("action", f"must be one of {', '.join(ACTIONS)}")
    symbol = payload.get("symbol")
    symbol = symbol.strip().upper() if isinstance(symbol, str) else ""
    if symbol not in config.symbols:
        raise ValidationError("symbol", f"must be one of this config's symbols: {config.symbols}")
    stop, target, price = (_price(payload, name) for name in ("stop", "target", "price"))
    if action == "buy" and price is not None:
        if stop is not None and stop >= price:
            raise ValidationError("stop", "must be below the reference price for a buy")
        if target is not None and target <= price:
            raise ValidationError("target", "must be above the reference price for a buy")
    if stop is not None and target is not None and stop >= target:
        raise ValidationError("stop", "must be below the target")
    return WebhookSignal(action, symbol, stop, target, price)
