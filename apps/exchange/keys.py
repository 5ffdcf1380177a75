"""API key verification for saving or rotating an exchange account's key.

On `live` and `paper` the key's own restrictions (GET /sapi/v1/account/apiRestrictions)
decide: a key that can withdraw, transfer internally or make universal transfers is
refused (Spotdesk never needs those rights, and a leaked key with them empties the
account); a key without an IP whitelist, or with margin/futures/options rights, is
accepted with a warning. The Spot testnet (and demo) have no /sapi: there a signed
GET /api/v3/account proves the key works and can trade, and withdrawal rights are
recorded as not applicable (None).

The accounts app stores `KeyVerification.as_dict()` on the account and shows it in
admin; `alert_if_expiring` raises the alert before tradingAuthorityExpirationTime.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace

from django.utils.translation import gettext

from . import conf
from .credentials import Credentials
from .environments import Environment, endpoints_for
from .errors import AuthenticationError, ExchangeError

EXPIRY_WARNING_DAYS_DEFAULT = 14


@dataclass(frozen=True)
class KeyVerification:
    environment: str
    accepted: bool
    checked_at: dt.datetime
    method: str  # "api_restrictions" or "account"
    can_trade: bool | None = None
    can_withdraw: bool | None = None  # None: not applicable (testnet/demo)
    can_internal_transfer: bool | None = None
    can_universal_transfer: bool | None = None
    ip_restricted: bool | None = None
    margin_enabled: bool | None = None
    futures_enabled: bool | None = None
    trading_authority_expires_ms: int | None = None
    refusals: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat()
        data["refusals"] = [str(item) for item in self.refusals]
        data["warnings"] = [str(item) for item in self.warnings]
        return data

    @property
    def message(self) -> str:
        """One line for the person saving the key."""
        if self.refusals:
            return " ".join(str(item) for item in self.refusals)
        if self.warnings:
            return " ".join(str(item) for item in self.warnings)
        return gettext("The key works and has only the rights Spotdesk needs.")

    def expires_within(self, days: int, now: dt.datetime | None = None) -> bool:
        if not self.trading_authority_expires_ms:
            return False
        now = now or dt.datetime.now(dt.UTC)
        expires = dt.datetime.fromtimestamp(self.trading_authority_expires_ms / 1000, dt.UTC)
        return expires - now <= dt.timedelta(days=days)


def _expiry_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "EXCHANGE_KEY_EXPIRY_WARNING_DAYS", EXPIRY_WARNING_DAYS_DEFAULT))


def verify_api_key(
    environment: str,
    credentials: Credentials,
    *,
    redis_client=None,
    recv_window_ms: int | None = None,
    now: dt.datetime | None = None,
) -> KeyVerification:
    """Check a key against the exchange before it is saved. Never raises for a bad key:
    a refused key comes back with `accepted=False` and the reasons; only a failure to
    reach the exchange raises (ExchangeError), so the caller can say "try again"."""
    from .gateway import ExchangeGateway

    now = now or dt.datetime.now(dt.UTC)
    env = Environment(environment)
    gateway = ExchangeGateway(
        env.value,
        credentials=credentials,
        redis_client=redis_client,
        recv_window_ms=recv_window_ms or conf.default_recv_window_ms(),
    )
    if endpoints_for(env).has_sapi:
        return _verify_by_restrictions(gateway, env, now)
    return _verify_by_account(gateway, env, now)


def _auth_refusal(env: Environment, now, method: str, error: ExchangeError) -> KeyVerification:
    return KeyVerification(
        environment=env.value,
        accepted=False,
        checked_at=now,
        method=method,
        refusals=(
            gettext(
                "Binance refused this key (%(reason)s). Check the key, its secret and "
                "the key's IP whitelist."
            )
            % {"reason": error.message},
        ),
    )


def _verify_by_restrictions(gateway, env: Environment, now) -> KeyVerification:
    try:
        data = gateway.api_restrictions()
    except AuthenticationError as error:
        return _auth_refusal(env, now, "api_restrictions", error)
    refusals, warnings = [], []
    can_withdraw = bool(data.get("enableWithdrawals"))
    internal = bool(data.get("enableInternalTransfer"))
    universal = bool(data.get("permitsUniversalTransfer"))
    can_trade = bool(data.get("enableSpotAndMarginTrading"))
    if can_withdraw:
        refusals.append(
            gettext(
                "This key can withdraw funds. Spotdesk never withdraws: create a key "
                "with withdrawals disabled."
            )
        )
    if internal:
        refusals.append(
            gettext("This key can make internal transfers. Disable internal transfer on the key.")
        )
    if universal:
        refusals.append(
            gettext("This key can make universal transfers. Disable universal transfer on the key.")
        )
    if not can_trade:
        refusals.append(gettext("This key cannot trade Spot. Enable Spot trading on the key."))
    ip_restricted = bool(data.get("ipRestrict"))
    if not ip_restricted:
        warnings.append(
            gettext(
                "This key is not restricted to trusted IP addresses; restrict it to this "
                "server's address."
            )
        )
    margin = bool(data.get("enableMargin"))
    futures = bool(data.get("enableFutures"))
    if (
        margin
        or futures
        or data.get("enablePortfolioMarginTrading")
        or data.get("enableVanillaOptions")
    ):
        warnings.append(
            gettext(
                "This key has margin, futures or options rights Spotdesk does not use; "
                "a key without them is safer."
            )
        )
    expires = data.get("tradingAuthorityExpirationTime")
    result = KeyVerification(
        environment=env.value,
        accepted=not refusals,
        checked_at=now,
        method="api_restrictions",
        can_trade=can_trade,
        can_withdraw=can_withdraw,
        can_internal_transfer=internal,
        can_universal_transfer=universal,
        ip_restricted=ip_restricted,
        margin_enabled=margin,
        futures_enabled=futures,
        trading_authority_expires_ms=int(expires) if expires else None,
        refusals=tuple(refusals),
        warnings=tuple(warnings),
    )
    if result.expires_within(_expiry_days(), now):
        expiry = dt.datetime.fromtimestamp(int(expires) / 1000, dt.UTC)
        warnings.append(
            gettext("This key's trading authority expires on %(date)s; renew it before then.")
            % {"date": expiry.strftime("%Y-%m-%d %H:%M UTC")}
        )
        result = replace(result, warnings=tuple(warnings))
    return result


def _verify_by_account(gateway, env: Environment, now) -> KeyVerification:
    try:
        data = gateway.account()
    except AuthenticationError as error:
        return _auth_refusal(env, now, "account", error)
    can_trade = bool(data.get("canTrade"))
    refusals = []
    if not can_trade:
        refusals.append(gettext("This key cannot trade Spot. Enable Spot trading on the key."))
    return KeyVerification(
        environment=env.value,
        accepted=not refusals,
        checked_at=now,
        method="account",
        can_trade=can_trade,
        refusals=tuple(refusals),
    )


def alert_if_expiring(verification: KeyVerification, *, account_label: str) -> bool:
    """Raise a warning alert when the key's trading authority ends soon."""
    if not verification.expires_within(_expiry_days()):
        return False
    from apps.monitoring.alerts import raise_alert

    raise_alert(
        "warning",
        "exchange_key_expiring",
        f"The API key of {account_label} loses its trading authority soon; renew it.",
        account=account_label,
        expires_ms=verification.trading_authority_expires_ms,
    )
    return True


def verify_account_credentials(exchange_credentials, *, redis_client=None) -> KeyVerification:
    """Adapter for the accounts app's decrypted credentials (any object with
    `environment`, `api_key`, `secret` and `key_type` "hmac"/"ed25519"), e.g. as the
    verifier installed with `apps.accounts.credentials.set_credentials_verifier`."""
    credentials = Credentials.from_parts(
        api_key=exchange_credentials.api_key,
        secret=exchange_credentials.secret,
        key_type=exchange_credentials.key_type,
    )
    return verify_api_key(
        exchange_credentials.environment,
        credentials,
        redis_client=redis_client,
        recv_window_ms=getattr(exchange_credentials, "recv_window_ms", None),
    )


def verification_for_accounts(exchange_credentials):
    """The verifier installed into apps.accounts: its VerificationResult from ours."""
    from apps.accounts.credentials import VerificationResult

    result = verify_account_credentials(exchange_credentials)
    return VerificationResult(
        accepted=result.accepted, permissions=result.as_dict(), message=result.message
    )
