"""GET /api/v1/liquidity/?symbol=: the order-book summaries the streams process wrote,
for any signed-in member; a symbol without a fresh one is left out; 400 names a bad
field."""

from __future__ import annotations

import time
from decimal import Decimal

from django.test import Client

from apps.marketdata.liquidity import LiquidityStore, summarise
from tests.api.conftest import error_of, session_client

D = Decimal
URL = "/api/v1/liquidity/"


def publish(redis_client, *, age: float = 0.0, environment: str = "paper") -> None:
    summary = summarise(
        "BTCUSDT",
        {D("29999"): D("2"), D("29950"): D("5")},
        {D("30001"): D("1"), D("30100"): D("3")},
        time_ms=1_700_000_000_000,
        levels=50,
        published_at=time.time() - age,
    )
    LiquidityStore(redis_client, environment).write([summary])


def test_a_member_reads_the_symbols_liquidity(desk, redis_client):
    publish(redis_client)
    response = session_client(desk.viewer).get(URL, {"symbol": "btcusdt", "environment": "paper"})
    assert response.status_code == 200, response.content
    (body,) = response.json()
    assert (body["symbol"], body["environment"]) == ("BTCUSDT", "paper")
    assert (body["best_bid"], body["best_ask"], body["mid"]) == ("29999", "30001", "30000")
    assert body["spread_bps"] == "0.6667"  # 2 / 30000
    assert body["depth_10bps"] == {"bid_quote": "59998", "ask_quote": "30001"}
    # 10 bps: 29970-30030, 50 bps: 29850-30150.
    assert body["depth_50bps"] == {"bid_quote": "209748", "ask_quote": "120301"}
    assert body["asks"] == [["30001", "1"], ["30100", "3"]]
    assert body["time_ms"] == 1_700_000_000_000
    assert 0 <= body["age_seconds"] < 5


def test_symbols_without_a_fresh_summary_are_left_out(desk, redis_client):
    client = session_client(desk.viewer)
    publish(redis_client)
    both = client.get(URL, {"symbol": "ETHUSDT,BTCUSDT", "environment": "paper"})
    assert [row["symbol"] for row in both.json()] == ["BTCUSDT"]
    publish(redis_client, age=60)
    stale = client.get(URL, {"symbol": "BTCUSDT", "environment": "paper"})
    assert stale.json() == []
    publish(redis_client, environment="testnet")  # another environment's book
    other = client.get(URL, {"symbol": "BTCUSDT", "environment": "paper"})
    assert other.json() == []
    assert len(client.get(URL, {"symbol": "BTCUSDT", "environment": "testnet"}).json()) == 1


def test_bad_input_names_the_field_and_anonymous_is_refused(desk, redis_client):
    client = session_client(desk.viewer)
    cases = (
        ({}, "symbol"),
        ({"symbol": "BTC/USDT"}, "symbol"),
        ({"symbol": "BTCUSDT", "environment": "moon"}, "environment"),
    )
    for params, field in cases:
        response = client.get(URL, params)
        assert response.status_code == 400, params
        assert field in error_of(response)["fields"]
    publish(redis_client)
    assert Client().get(URL, {"symbol": "BTCUSDT"}).status_code in (401, 403)
