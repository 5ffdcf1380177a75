"""Signing: Binance's documented HMAC test vectors and Ed25519 round trips."""

from __future__ import annotations

import base64
from urllib.parse import quote

from apps.paper_exchange.signing import (
    hmac_sha256_hex,
    new_ed25519_keypair,
    sign_ed25519,
    signature_payload,
    strip_signature,
    verify_ed25519,
    verify_hmac,
)

# rest-api.md, "SIGNED Endpoint Examples for POST /api/v3/order", HMAC keys.
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
DOC_NON_ASCII_PAYLOAD = (
    "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
    "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
DOC_NON_ASCII_SIGNATURE = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"


def test_documented_hmac_vectors():
    assert hmac_sha256_hex(DOC_SECRET, DOC_PAYLOAD) == DOC_SIGNATURE
    assert hmac_sha256_hex(DOC_SECRET, DOC_NON_ASCII_PAYLOAD) == DOC_NON_ASCII_SIGNATURE


def test_documented_vector_verifies_from_a_query_string():
    payload, signature = signature_payload(f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}", "")
    assert (payload, signature) == (DOC_PAYLOAD, DOC_SIGNATURE)
    assert verify_hmac(DOC_SECRET, payload, signature)
    # HMAC signatures are case-insensitive.
    assert verify_hmac(DOC_SECRET, payload, signature.upper())
    assert not verify_hmac(DOC_SECRET, payload.replace("BUY", "SELL"), signature)


def test_payload_is_query_then_body_without_separator():
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    payload, signature = signature_payload(query, f"{body}&signature=abc")
    assert payload == query + body
    assert signature == "abc"


def test_query_signature_wins_over_body_signature():
    _, signature = signature_payload("a=1&signature=fromquery", "b=2&signature=frombody")
    assert signature == "fromquery"


def test_strip_signature_anywhere():
    assert strip_signature("signature=x&a=1&b=2") == ("a=1&b=2", "x")
    assert strip_signature("") == ("", None)


def test_ed25519_round_trip_and_percent_encoding():
    private_pem, public_pem = new_ed25519_keypair()
    signature = sign_ed25519(private_pem, DOC_PAYLOAD)
    assert len(base64.b64decode(signature)) == 64
    assert verify_ed25519(public_pem, DOC_PAYLOAD, signature)
    assert verify_ed25519(public_pem, DOC_PAYLOAD, quote(signature, safe=""))
    assert verify_ed25519(public_pem, DOC_PAYLOAD, quote(quote(signature, safe=""), safe=""))
    assert not verify_ed25519(public_pem, DOC_PAYLOAD + "&x=1", signature)
    _, other_public = new_ed25519_keypair()
    assert not verify_ed25519(other_public, DOC_PAYLOAD, signature)
    assert not verify_ed25519(public_pem, DOC_PAYLOAD, "not base64!")
