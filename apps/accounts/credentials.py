"""The only place a stored exchange secret is decrypted: building credentials.

The exchange gateway (issue 6) calls `load_credentials(account)` when it builds a
client and keeps the returned object for the life of that client: a key promotion
afterwards does not disturb calls already in flight, which finish with the old key.
`set_credentials_verifier` is the seam where the gateway plugs in verification against
the exchange: the services call it before a key is stored (a refused key is never
saved) and `record_key_verification` calls it again for stored keys. Until a verifier
is installed, keys are stored unverified.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from apps.core.errors import ConflictError

from .models import ApiKeyPair, ExchangeAccount, KeyState


@dataclass(frozen=True)
class ExchangeCredentials:
    account_id: int | None
    key_pair_id: int | None  # None while a new key is being verified before it is stored
    environment: str
    key_type: str
    api_key: str
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"ExchangeCredentials(account_id={self.account_id}, key_pair_id={self.key_pair_id}, "
            f"environment={self.environment!r}, key_type={self.key_type!r})"
        )


def credentials_for_key(key_pair: ApiKeyPair) -> ExchangeCredentials:
    if key_pair.secret is None:
        raise ConflictError("this key pair was retired and its secret erased")
    return ExchangeCredentials(
        account_id=key_pair.account_id,
        key_pair_id=key_pair.pk,
        environment=key_pair.account.environment,
        key_type=key_pair.key_type,
        api_key=key_pair.api_key,
        secret=key_pair.secret.reveal(),
    )


def load_credentials(account: ExchangeAccount) -> ExchangeCredentials:
    """Credentials of the account's active key pair."""
    key_pair = (
        ApiKeyPair.objects.select_related("account")
        .filter(account=account, state=KeyState.ACTIVE)
        .first()
    )
    if key_pair is None:
        raise ConflictError(f"exchange account {account.pk} has no active API key")
    return credentials_for_key(key_pair)


@dataclass(frozen=True)
class VerificationResult:
    """The exchange's verdict on a key: accepted or not (with the reason, safe to show,
    never containing the secret) and the permissions snapshot to keep."""

    accepted: bool
    permissions: dict
    message: str = ""


Verifier = Callable[[ExchangeCredentials], VerificationResult]
_verifier: Verifier | None = None


def set_credentials_verifier(verifier: Verifier | None) -> None:
    """Installed by the exchange gateway; None removes it."""
    global _verifier
    _verifier = verifier


def verify_credentials(credentials: ExchangeCredentials) -> VerificationResult | None:
    """Ask the exchange about these credentials; None while no verifier is installed."""
    if _verifier is None:
        return None
    return _verifier(credentials)
