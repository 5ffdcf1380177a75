"""Request signatures: the payload Binance signs, HMAC-SHA256 and Ed25519 verification.

The payload is the raw query string concatenated with the raw body (no separator),
each with its ``signature`` pair removed. Verifying over the raw text, not over parsed
parameters, is what makes parameter order and percent-encoding matter as on Binance.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_KEY_ALPHABET = string.ascii_letters + string.digits


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Split ``raw`` (a query string or form body) into payload text and signature value."""
    if not raw:
        return "", None
    kept: list[str] = []
    signature: str | None = None
    for pair in raw.split("&"):
        if pair.startswith("signature="):
            signature = pair[len("signature=") :]
        else:
            kept.append(pair)
    return "&".join(kept), signature


def signature_payload(raw_query: str, raw_body: str) -> tuple[str, str | None]:
    """Payload to verify and the signature sent (the query's one wins on a duplicate)."""
    query_payload, query_signature = strip_signature(raw_query)
    body_payload, body_signature = strip_signature(raw_body)
    signature = query_signature if query_signature is not None else body_signature
    return query_payload + body_payload, signature


def hmac_sha256_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def verify_hmac(secret: str, payload: str, signature: str) -> bool:
    # HMAC signatures are case-insensitive on Binance.
    expected = hmac_sha256_hex(secret, payload)
    return hmac.compare_digest(expected, unquote(signature).lower())


def verify_ed25519(public_key_pem: str, payload: str, signature: str) -> bool:
    # Clients send the base64 signature percent-encoded, some of them twice.
    text = signature
    for _ in range(2):
        if "%" not in text:
            break
        text = unquote(text)
    try:
        raw_signature = base64.b64decode(text, validate=True)
        key = serialization.load_pem_public_key(public_key_pem.encode())
    except (binascii.Error, ValueError):
        return False
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(raw_signature, payload.encode())
    except InvalidSignature:
        return False
    return True


def new_api_key() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(64))


def new_hmac_secret() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(64))


def new_ed25519_keypair() -> tuple[str, str]:
    """A fresh (private PEM, public PEM) pair; only the public half is stored."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def sign_ed25519(private_key_pem: str, payload: str) -> str:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return base64.b64encode(key.sign(payload.encode())).decode()
