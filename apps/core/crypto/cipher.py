"""One MultiFernet per process, built from the configured key source.

The first key encrypts, every key decrypts; `rotate` re-encrypts a token under the
first key. Keys are fetched once (a remote source is not asked on every request) and
dropped by `reset_keys()` or when a FIELD_ENCRYPTION_* setting changes in tests.
"""

import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.signals import setting_changed
from django.dispatch import receiver

from apps.core.errors import SpotdeskError
from apps.core.redaction import register_secret

from .sources import load_keys

_lock = threading.Lock()
_cached: tuple[MultiFernet, Fernet] | None = None


class DecryptionError(SpotdeskError):
    """No configured key opens this token (wrong or missing key, or a damaged value)."""

    code = "decryption_error"


def _ciphers() -> tuple[MultiFernet, Fernet]:
    global _cached
    with _lock:
        if _cached is None:
            fernets = [Fernet(key.encode()) for key in load_keys()]
            _cached = (MultiFernet(fernets), fernets[0])
        return _cached


def reset_keys() -> None:
    global _cached
    with _lock:
        _cached = None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("FIELD_ENCRYPTION"):
        reset_keys()


def encrypt(plaintext: str) -> str:
    return _ciphers()[0].encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt and register the value with the log redaction, so it is masked anywhere."""
    try:
        value = _ciphers()[0].decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured keys: the key that "
            "encrypted it may be missing from the key source."
        ) from None
    register_secret(value)
    return value


def is_current(token: str) -> bool:
    """True when the first (current) key encrypted this token."""
    try:
        _ciphers()[1].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same plaintext re-encrypted under the first key."""
    try:
        return _ciphers()[0].rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret cannot be decrypted for rotation.") from None
