"""Signed WebSocket API requests: the signature covers every parameter but ``signature``,
sorted by name, as ``name=value`` pairs joined by ``&`` (values raw or URL-encoded: the
documentation signs them raw, python-binance URL-encodes them)."""

from __future__ import annotations

from urllib.parse import quote_plus

from apps.paper_exchange import errors
from apps.paper_exchange.server.auth import api_key_from_header, check_permission, check_timing
from apps.paper_exchange.server.params import Params
from apps.paper_exchange.signing import verify_ed25519, verify_hmac


def wire(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def payloads(params: dict) -> list[str]:
    items = sorted((name, wire(value)) for name, value in params.items() if name != "signature")
    raw = "&".join(f"{name}={value}" for name, value in items)
    encoded = "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, value in items)
    return [raw] if raw == encoded else [raw, encoded]


def authenticate(store, params: dict, security: str, server_time: int):
    key = api_key_from_header(store, wire(params.get("apiKey", "")) or None)
    check_permission(key, security)
    signature = params.get("signature")
    if not signature:
        raise errors.mandatory("signature")
    signature = wire(signature)
    for payload in payloads(params):
        if key.key_type == "ED25519":
            valid = verify_ed25519(key.public_key or "", payload, signature)
        else:
            valid = verify_hmac(key.secret or "", payload, signature)
        if valid:
            break
    else:
        raise errors.invalid_signature()
    check_timing(as_params(params), server_time)
    return key, store.accounts[key.account_id]


def as_params(params: dict) -> Params:
    """The REST parameter reader over WebSocket API params (same checks, same errors)."""
    query = "&".join(
        f"{quote_plus(name)}={quote_plus(wire(value))}" for name, value in params.items()
    )
    return Params(query, "")
