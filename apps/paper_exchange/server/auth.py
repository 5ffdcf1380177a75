"""Signed-request checks: API key (-2014/-2015), signature (-1022), timing (-1021)."""

from __future__ import annotations

import re
from decimal import Decimal

from apps.paper_exchange import errors
from apps.paper_exchange.engine.models import ApiKey
from apps.paper_exchange.server.params import Params
from apps.paper_exchange.signing import signature_payload, verify_ed25519, verify_hmac
from apps.paper_exchange.state import Store

_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{64}$")
DEFAULT_RECV_WINDOW = Decimal(5000)
MAX_RECV_WINDOW = Decimal(60000)
AHEAD_TOLERANCE_MS = 1000


def to_milliseconds(value: int) -> Decimal:
    """Timestamps may come in microseconds (16 digits) or milliseconds."""
    if value >= 10**14:
        return Decimal(value) / 1000
    return Decimal(value)


def api_key_from_header(store: Store, header: str | None) -> ApiKey:
    if not header or not _KEY_FORMAT.match(header):
        raise errors.bad_api_key_format()
    key = store.keys.get(header)
    if key is None:
        raise errors.rejected_api_key()
    return key


def check_permission(key: ApiKey, security: str) -> None:
    if security == "TRADE" and not key.enable_spot_and_margin_trading:
        raise errors.rejected_api_key()
    if security in ("USER_DATA", "TRADE") and not key.enable_reading:
        raise errors.rejected_api_key()


def check_signature(key: ApiKey, params: Params) -> None:
    payload, signature = signature_payload(params.raw_query, params.raw_body)
    if not signature:
        raise errors.mandatory("signature")
    if key.key_type == "ED25519":
        valid = verify_ed25519(key.public_key or "", payload, signature)
    else:
        valid = verify_hmac(key.secret or "", payload, signature)
    if not valid:
        raise errors.invalid_signature()


def check_timing(params: Params, server_time: int) -> None:
    timestamp = params.integer("timestamp", required=True)
    recv_window = params.decimal("recvWindow")
    if recv_window is None:
        recv_window = DEFAULT_RECV_WINDOW
    if recv_window > MAX_RECV_WINDOW:
        raise errors.greater_than("recvWindow", int(MAX_RECV_WINDOW))
    if recv_window.as_tuple().exponent < -3:
        raise errors.too_much_precision("recvWindow")
    sent = to_milliseconds(timestamp)
    if sent >= server_time + AHEAD_TOLERANCE_MS:
        raise errors.timestamp_ahead()
    if server_time - sent > recv_window:
        raise errors.timestamp_outside_window()


def authenticate(store: Store, header: str | None, params: Params, security: str, now: int):
    key = api_key_from_header(store, header)
    check_permission(key, security)
    check_signature(key, params)
    check_timing(params, now)
    return key, store.accounts[key.account_id]
