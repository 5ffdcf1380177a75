"""Removes secrets from anything that is about to be logged.

Three nets, because a secret can arrive by name, by shape or by value:
- by name: any mapping key that looks like a secret (api_key, secret, signature,
  password, token, authorization, ...) has its value replaced;
- by shape: `signature=...`, `apiKey=...`, `Bearer ...` in text and Binance-style
  64-character mixed-case keys are masked;
- by value: the encryption layer registers every secret it decrypts, and those exact
  strings are masked wherever they appear.
"""

import re
import threading

REDACTED = "[REDACTED]"

SECRET_KEY_NAME = re.compile(
    r"(pass(word|wd|phrase)?|secret|signature|token|api[_-]?key|apikey|x-mbx-apikey|"
    r"authorization|private[_-]?key|otp|session[_-]?id|cookie|credential|fernet)",
    re.IGNORECASE,
)
_TEXT_PATTERNS = [
    # key=value pairs in query strings, form bodies and repr()s
    re.compile(
        r"(?i)\b((?:signature|api[_-]?key|apikey|secret(?:[_-]?key)?|password|token|"
        r"access[_-]?token|listenkey)[\"']?\s*[=:]\s*[\"']?)([^&\s\"',;}]+)"
    ),
    re.compile(r"(?i)\b(bearer|token|basic)\s+([A-Za-z0-9._~+/=-]{8,})"),
    # Spotdesk's personal API tokens (sdt_<prefix>_<secret>), wherever they appear:
    # the prefix stays readable so a log line still says which token it was.
    re.compile(r"\b(sdt_[0-9a-f]{8}_)([A-Za-z0-9_-]{20,})"),
]
# Binance API keys and HMAC secrets: 64 mixed-case alphanumerics. Lower-case hex
# digests (audit hashes) are deliberately not matched.
_BINANCE_KEY_SHAPE = re.compile(r"\b(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{64}\b")

_registered: set[str] = set()
_registered_lock = threading.Lock()
_MIN_REGISTERED_LENGTH = 6  # shorter values would mask ordinary words


def register_secret(value: str | bytes | None) -> None:
    """Mask this exact value in every future log line of this process."""
    if value is None:
        return
    text = value.decode(errors="ignore") if isinstance(value, bytes) else str(value)
    if len(text) >= _MIN_REGISTERED_LENGTH:
        with _registered_lock:
            _registered.add(text)


def redact_text(text: str) -> str:
    for pattern in _TEXT_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BINANCE_KEY_SHAPE.sub(REDACTED, text)
    if _registered:
        with _registered_lock:
            values = sorted(_registered, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
    return text


def redact(value, _depth: int = 0):
    """Return a copy of `value` with secrets masked, recursing into containers."""
    if _depth > 8:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode(errors="replace"))
    if isinstance(value, dict):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and SECRET_KEY_NAME.search(key)
                else redact(item, _depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(redact(item, _depth + 1) for item in value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_text(repr(value)) if _looks_sensitive(value) else value


def _looks_sensitive(value) -> bool:
    return bool(SECRET_KEY_NAME.search(type(value).__name__))
