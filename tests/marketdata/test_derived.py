"""Higher intervals derived from a lower one: the plan subscribes less, and a derived
candle equals the exchange's own candle of that interval."""

from __future__ import annotations

import asyncio

import pytest
import requests
from asgiref.sync import sync_to_async
from django.db import connection

from apps.marketdata.derived import aggregate, closes_bucket, plan_streams
from apps.marketdata.ingestion import MarketDataShard
from apps.marketdata.klines import parse_kline
from apps.marketdata.models import Candle
from apps.strategies.models import StrategyConfig
from tests.marketdata.test_ingestion import active_config, advance, paper  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
MINUTE = 60_000


def test_plan_subscribes_the_shortest_interval_and_derives_its_multiples():
    plan = plan_streams(
        [("BTCUSDT", "1m"), ("BTCUSDT", "15m"), ("BTCUSDT", "1h"), ("BTCUSDT", "1w"),
         ("ETHUSDT", "5m"), ("ETHUSDT", "3m"), ("XRPETH", "4h")]
    )  # fmt: skip
    assert plan.subscribed == {
        ("BTCUSDT", "1m"), ("BTCUSDT", "1w"), ("ETHUSDT", "3m"), ("ETHUSDT", "5m"),
        ("XRPETH", "4h"),
    }  # fmt: skip
    assert plan.derived == {("BTCUSDT", "1m"): ("15m", "1h")}
    assert closes_bucket(14 * MINUTE, "1m", "15m")
    assert not closes_bucket(13 * MINUTE, "1m", "15m")


def test_aggregating_the_exchanges_minutes_gives_its_own_hour(paper, exchange):  # noqa: F811
    def klines(interval, **params):
        return requests.get(
            f"{exchange.url}/api/v3/klines",
            params={"symbol": "BTCUSDT", "interval": interval, **params},
            timeout=10,
        ).json()

    hour = klines("1h", limit=3)[0]  # a closed hour
    minutes = klines("1m", startTime=hour[0], endTime=hour[0] + 59 * MINUTE, limit=60)
    assert len(minutes) == 60
    derived = aggregate([parse_kline(m) for m in minutes], "1h")
    assert derived == parse_kline(hour)


def _stored(interval):
    try:
        return {
            int(c.open_time.timestamp() * 1000): c.as_kline_row()
            for c in Candle.objects.filter(symbol__name="BTCUSDT", interval=interval)
        }
    finally:
        connection.close()


async def test_the_shard_derives_5m_from_its_1m_subscription(paper, exchange, settings):  # noqa: F811
    settings.MARKETDATA_WARMUP_CANDLES = 10
    config = await sync_to_async(active_config)(["BTCUSDT"])

    def second_config():
        StrategyConfig.objects.create(
            account_id=config.account_id, name="five", strategy=config.strategy,
            strategy_version=config.strategy_version, symbols=["BTCUSDT"], interval="5m",
            params=config.params, enabled=True,
        )  # fmt: skip
        connection.close()

    await sync_to_async(second_config)()
    closed = []
    shard = MarketDataShard(
        environment="paper", refresh_seconds=60, on_closed_candle=lambda *a: closed.append(a)
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(shard.run(stop))
    try:
        await asyncio.wait_for(shard.supervisor.connected.wait(), 10)
        assert shard.followed == {"btcusdt@kline_1m"}
        await advance(paper, 11 * MINUTE)
        for _ in range(100):
            if sum(1 for c in closed if c[2] == "5m") >= 2:
                break
            await asyncio.sleep(0.1)
        fives = [c[3] for c in closed if c[2] == "5m"]
        assert len(fives) >= 2
        stored = await sync_to_async(_stored)("5m")
        for open_ms in fives:
            rest = requests.get(
                f"{exchange.url}/api/v3/klines",
                params={"symbol": "BTCUSDT", "interval": "5m", "startTime": open_ms, "limit": 1},
                timeout=10,
            ).json()[0]
            assert stored[open_ms] == parse_kline(rest)
    finally:
        stop.set()
        await runner
