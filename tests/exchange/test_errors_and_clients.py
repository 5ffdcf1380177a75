"""Error mapping, credentials masking, per-account client URLs, live host failover."""

from __future__ import annotations

import logging

import pytest
import requests

from apps.core.errors import UncertainOutcomeError
from apps.exchange import errors
from apps.exchange.client import SpotClient
from apps.exchange.credentials import Credentials
from apps.exchange.environments import (
    LIVE_REST_HOSTS,
    Environment,
    RestHostSelector,
    endpoints_for,
)

SECRET = "s3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cretS3cret0000"
KEY = "kEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeY1234"


@pytest.mark.parametrize(
    ("status", "code", "message", "is_write", "expected"),
    [
        (429, -1003, "Too much request weight used", False, errors.RateLimitedError),
        (418, -1003, "IP banned", False, errors.IpBannedError),
        (400, -1015, "Too many new orders", True, errors.RateLimitedError),
        (400, -1021, "Timestamp outside recvWindow", True, errors.TimestampError),
        (503, -1007, "Timeout waiting for response", True, UncertainOutcomeError),
        (503, -1007, "Timeout waiting for response", False, errors.TemporaryExchangeError),
        (500, -1001, "Internal error", True, UncertainOutcomeError),
        (
            503,
            None,
            "Unknown error, please check your request or try again later.",
            True,
            UncertainOutcomeError,
        ),
        (503, None, "Service Unavailable.", True, errors.TemporaryExchangeError),
        (503, -1008, "Server is currently overloaded", True, errors.TemporaryExchangeError),
        (502, None, "Bad Gateway", True, UncertainOutcomeError),
        (
            400,
            -2010,
            "Account has insufficient balance for requested action.",
            True,
            errors.InsufficientBalanceError,
        ),
        (
            400,
            -2010,
            "Order would immediately match and take.",
            True,
            errors.WouldTriggerImmediatelyError,
        ),
        (400, -1013, "Filter failure: NOTIONAL", True, errors.InvalidOrderError),
        (400, -2013, "Order does not exist.", False, errors.OrderNotFoundError),
        (
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
            False,
            errors.AuthenticationError,
        ),
        (400, -1022, "Signature for this request is not valid.", False, errors.AuthenticationError),
        (400, -1102, "Mandatory parameter was not sent", False, errors.BadRequestError),
    ],
)
def test_binance_answers_map_to_meaning(status, code, message, is_write, expected):
    error = errors.map_api_error(status, code, message, is_write=is_write, retry_after=3)
    assert type(error) is expected
    assert error.exchange_code == code


def test_transport_failures_distinguish_never_sent_from_unknown():
    refused = requests.exceptions.ConnectionError("Failed to establish a new connection")
    assert type(errors.map_transport_error(refused, is_write=True)) is errors.TemporaryExchangeError
    timeout = requests.exceptions.ReadTimeout("read timed out")
    assert type(errors.map_transport_error(timeout, is_write=True)) is UncertainOutcomeError
    assert type(errors.map_transport_error(timeout, is_write=False)) is (
        errors.TemporaryExchangeError
    )


def test_credentials_never_show_their_secret(caplog):
    credentials = Credentials(api_key=KEY, api_secret=SECRET)
    assert SECRET not in repr(credentials)
    assert KEY not in repr(credentials)
    assert repr(credentials).endswith("…1234)")
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(credentials)
    with pytest.raises(Exception, match="either"):
        Credentials(api_key=KEY)


def test_clients_of_different_accounts_never_share_urls_or_recv_window():
    live = SpotClient(rest_base=LIVE_REST_HOSTS[0], recv_window_ms=3000)
    paper = SpotClient(rest_base="http://127.0.0.1:9100", recv_window_ms=7000)
    assert live._create_api_uri("order") == "https://api.binance.com/api/v3/order"
    assert paper._create_api_uri("order") == "http://127.0.0.1:9100/api/v3/order"
    assert paper._create_margin_api_uri("account/apiRestrictions") == (
        "http://127.0.0.1:9100/sapi/v1/account/apiRestrictions"
    )
    assert (live.REQUEST_RECVWINDOW, paper.REQUEST_RECVWINDOW) == (3000, 7000)
    from binance.client import Client

    assert Client.API_URL.startswith("https://api{}")  # the class itself is untouched


def test_environments_map_to_their_own_hosts(settings):
    settings.PAPER_EXCHANGE_URL = "http://127.0.0.1:9555"
    assert endpoints_for("testnet").rest == ("https://testnet.binance.vision",)
    assert not endpoints_for("testnet").has_sapi
    assert endpoints_for("paper").rest == ("http://127.0.0.1:9555",)
    assert endpoints_for("paper").ws_api == "ws://127.0.0.1:9555/ws-api/v3"
    assert len(endpoints_for(Environment.LIVE).rest) == 6


def test_live_failover_stays_within_live_hosts(redis_client):
    selector = RestHostSelector(redis_client, endpoints_for("live"))
    other_process = RestHostSelector(redis_client, endpoints_for("live"))
    assert selector.current() == "https://api.binance.com"
    selector.mark_unhealthy("https://api.binance.com")
    assert other_process.current() == "https://api-gcp.binance.com"
    for host in LIVE_REST_HOSTS:
        selector.mark_unhealthy(host)
    # All marked: the least recently failed live host, never testnet or paper.
    assert other_process.current() == "https://api.binance.com"
    testnet = RestHostSelector(redis_client, endpoints_for("testnet"))
    testnet.mark_unhealthy("https://testnet.binance.vision")
    assert testnet.current() == "https://testnet.binance.vision"


def test_secrets_do_not_reach_logs(caplog):
    from apps.core.redaction import redact_text

    Credentials(api_key=KEY, api_secret=SECRET)
    logging.getLogger("x").warning("sending with %s", SECRET)
    assert SECRET not in redact_text(caplog.text)


def test_ed25519_credentials_sign_requests_python_binance_accepts():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    credentials = Credentials.from_parts(api_key=KEY, secret=pem, key_type="ed25519")
    assert credentials.kind == "ed25519"
    assert "PRIVATE" not in repr(credentials)
    client = SpotClient(rest_base="http://127.0.0.1:9", credentials=credentials)
    signature = client._generate_signature({"symbol": "BTCUSDT", "timestamp": 1})
    assert signature
    assert SECRET not in signature


def test_weight_table_by_parameters():
    from apps.exchange.weights import (
        UnknownEndpoint,
        orders_placed,
        request_weight,
        ws_api_weight,
    )

    assert [request_weight("GET", "/api/v3/depth", {"limit": n}) for n in (5, 500, 1000, 5000)] == [
        5,
        25,
        50,
        250,
    ]
    assert request_weight("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}) == 6
    assert request_weight("GET", "/api/v3/openOrders") == 80
    assert request_weight("GET", "/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}) == 2
    assert request_weight("GET", "/api/v3/ticker/24hr", {"symbols": '["A","B"]'}) == 2
    assert request_weight("GET", "/api/v3/ticker/24hr") == 80
    assert request_weight("GET", "/api/v3/ticker/price") == 4
    assert orders_placed("POST", "/api/v3/orderList/oco") == 2
    assert orders_placed("GET", "/api/v3/order") == 0
    assert ws_api_weight("depth", {"limit": 1000}) == 50
    assert ws_api_weight("userDataStream.subscribe.signature") == 2
    with pytest.raises(UnknownEndpoint):
        request_weight("GET", "/api/v3/somethingNew")


def test_without_redis_nothing_is_sent(settings):
    import redis as redis_lib

    from apps.exchange.gateway import ExchangeGateway

    settings.EXCHANGE_READ_RETRY_ATTEMPTS = 1
    settings.PAPER_EXCHANGE_URL = "http://127.0.0.1:9"
    dead = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    gateway = ExchangeGateway("paper", redis_client=dead, egress="nowhere")
    with pytest.raises(errors.ExchangeUnavailableError, match="nothing sent"):
        gateway.ping()


def test_duplicate_client_id_is_its_own_error():
    error = errors.map_api_error(400, -2010, "Duplicate order sent.", is_write=True)
    assert type(error) is errors.DuplicateOrderError
