"""API credentials of one exchange account, as the gateway needs them.

The accounts app builds these from an ExchangeAccount's decrypted fields; they live
only in memory. Neither `repr` nor `str` shows the secret or more than the key's
last four characters, so a credentials object in a log line or traceback leaks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.core.errors import ValidationError
from apps.core.redaction import register_secret


@dataclass(frozen=True, repr=False)
class Credentials:
    api_key: str
    # Exactly one of these: an HMAC secret, or an Ed25519 private key in PEM.
    api_secret: str | None = field(default=None)
    private_key_pem: str | None = field(default=None)

    def __post_init__(self):
        if not self.api_key:
            raise ValidationError("api_key", "must not be empty")
        if bool(self.api_secret) == bool(self.private_key_pem):
            raise ValidationError(
                "api_secret", "give either an HMAC secret or an Ed25519 private key, not both"
            )
        if self.private_key_pem and "PRIVATE KEY" not in self.private_key_pem:
            raise ValidationError("private_key_pem", "must be a PEM-encoded Ed25519 private key")
        # Masked in every log line of this process from now on.
        register_secret(self.api_key)
        register_secret(self.api_secret)
        register_secret(self.private_key_pem)

    @classmethod
    def from_parts(cls, *, api_key: str, secret: str, key_type: str) -> Credentials:
        """From the accounts app's decrypted key pair (`key_type` "hmac" or "ed25519")."""
        if key_type == "ed25519":
            return cls(api_key=api_key, private_key_pem=secret)
        if key_type == "hmac":
            return cls(api_key=api_key, api_secret=secret)
        raise ValidationError("key_type", "must be hmac or ed25519")

    @property
    def kind(self) -> str:
        return "ed25519" if self.private_key_pem else "hmac"

    @property
    def masked_key(self) -> str:
        return "…" + self.api_key[-4:] if len(self.api_key) > 8 else "…"

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind}, api_key={self.masked_key})"

    __str__ = __repr__

    def __reduce__(self):
        # Never pickled into a task argument or a cache.
        raise TypeError("Credentials are not serialisable; pass the account id instead")
