"""Contract: REQUEST_WEIGHT, the 418 ban and the unfilled ORDERS count, with small limits.

Windows are one day long here so that no window boundary falls inside a test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException

from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import Admin, limited_config, point_client_at

DAY = (1, "D")


@pytest.fixture
def weight_server():
    config = limited_config(
        weight=50, weight_interval=DAY, raw_requests=10_000, ban_after_violations=2
    )
    server = ServerThread(config).start()
    yield server
    server.stop()


@pytest.fixture
def order_server():
    config = limited_config(
        weight=10_000, weight_interval=DAY, orders_short=3, orders_short_interval=DAY
    )
    server = ServerThread(config).start()
    yield server
    server.stop()


def test_weight_limit_then_ban(weight_server):
    url = weight_server.url
    for expected in range(1, 51):
        response = requests.get(f"{url}/api/v3/ping", timeout=10)
        assert response.headers["X-MBX-USED-WEIGHT-1D"] == str(expected)
    refused = requests.get(f"{url}/api/v3/ping", timeout=10)
    assert refused.status_code == 429
    assert refused.json() == {
        "code": -1003,
        "msg": "Too much request weight used; current limit is 50 request weight per 1 DAY. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
    }
    assert int(refused.headers["Retry-After"]) > 0
    statuses = [requests.get(f"{url}/api/v3/ping", timeout=10).status_code for _ in range(3)]
    assert statuses == [429, 418, 418]
    banned = requests.get(f"{url}/api/v3/time", timeout=10)
    assert banned.status_code == 418
    assert banned.json()["code"] == -1003
    assert banned.json()["msg"].startswith("Way too much request weight used; IP banned until")
    assert 100 < int(banned.headers["Retry-After"]) <= 120


def test_heavy_endpoint_is_refused_before_the_light_one(weight_server):
    url = weight_server.url
    for _ in range(2):
        assert requests.get(f"{url}/api/v3/exchangeInfo", timeout=10).status_code == 200
    assert requests.get(f"{url}/api/v3/exchangeInfo", timeout=10).status_code == 429
    assert requests.get(f"{url}/api/v3/depth?symbol=BTCUSDT&limit=5", timeout=10).status_code == 200


def test_successful_orders_weigh_nothing_failed_ones_one(weight_server):
    key = Admin(weight_server.url).create_key({"USDT": "10000"})
    client = point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), weight_server.url)
    client.order_market_buy(symbol="BTCUSDT", quantity="0.001")
    assert client.response.headers["X-MBX-USED-WEIGHT-1D"] == "0"
    with pytest.raises(BinanceAPIException):
        client.order_market_buy(symbol="BTCUSDT", quantity="5")
    assert client.response.headers["X-MBX-USED-WEIGHT-1D"] == "1"


def test_unfilled_order_count_limit(order_server):
    key = Admin(order_server.url).create_key({"USDT": "100000"})
    client = point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), order_server.url)
    last = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
    price = str((last * Decimal("0.9")).quantize(Decimal("0.01")))
    client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=price)
    client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=price)
    # A filled order stops counting at its first fill.
    client.order_market_buy(symbol="BTCUSDT", quantity="0.001")
    assert client.response.headers["X-MBX-ORDER-COUNT-1D"] == "2"
    client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=price)
    with pytest.raises(BinanceAPIException) as caught:
        client.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=price)
    assert (caught.value.status_code, caught.value.code) == (429, -1015)
    assert caught.value.message == "Too many new orders; current limit is 3 orders per 1 DAY."
    assert int(caught.value.response.headers["Retry-After"]) > 0
    counts = {c["intervalNum"]: c["count"] for c in client.get_current_order_count()}
    assert counts == {1: 3}


def test_raw_request_limit():
    server = ServerThread(
        limited_config(weight=10_000, raw_requests=5, raw_interval=DAY, ban_after_violations=9)
    ).start()
    try:
        statuses = [
            requests.get(f"{server.url}/api/v3/ping", timeout=10).status_code for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]
        refused = requests.get(f"{server.url}/api/v3/ping", timeout=10)
        assert refused.json()["msg"] == (
            "Too many requests; current limit is 5 requests per 1 DAY."
        )
    finally:
        server.stop()
