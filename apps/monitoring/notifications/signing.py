"""HMAC-SHA256 signatures of outbound webhooks, and their verification.

Header: `X-Spotdesk-Signature: t=<unix seconds>,v1=<hex>` where the hex digest is
HMAC-SHA256(key=<route secret>, msg=b"<t>." + <raw request body>). A receiver
recomputes it over the raw body it received, compares in constant time and refuses a
timestamp older than its tolerance (replays). docs/observability.md shows a receiver.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Spotdesk-Signature"
DELIVERY_HEADER = "X-Spotdesk-Delivery"


class SignatureError(ValueError):
    """The signature header is missing, malformed, wrong or too old."""


def compute(secret: str, timestamp: int, body: bytes) -> str:
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The header value for this body."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    return f"t={timestamp},v1={compute(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp, digests = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            digests.append(value)
    if timestamp is None or not digests:
        raise SignatureError("malformed signature header")
    return timestamp, digests


def verify(secret: str, body: bytes, header: str, *, tolerance=None, now=None) -> int:
    """Return the signed timestamp, or raise SignatureError."""
    if tolerance is None:
        from .. import conf

        tolerance = conf.signature_tolerance_seconds()
    timestamp, digests = _parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("signature timestamp outside the tolerance")
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, digest) for digest in digests):
        raise SignatureError("signature does not match")
    return timestamp
