"""Signatures for requests python-binance does not send for us (the WebSocket API):
HMAC-SHA256 in hex, or Ed25519 in base64, over the sorted `name=value` payload."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .credentials import Credentials


def ws_api_payload(params: dict) -> str:
    return "&".join(f"{name}={params[name]}" for name in sorted(params))


def sign(credentials: Credentials, payload: str) -> str:
    if credentials.private_key_pem:
        key = load_pem_private_key(credentials.private_key_pem.encode(), password=None)
        return base64.b64encode(key.sign(payload.encode())).decode()
    digest = hmac.new(credentials.api_secret.encode(), payload.encode(), hashlib.sha256)
    return digest.hexdigest()


def signed_ws_params(credentials: Credentials, timestamp_ms: int, **params) -> dict:
    params = {"apiKey": credentials.api_key, "timestamp": timestamp_ms, **params}
    return {**params, "signature": sign(credentials, ws_api_payload(params))}
