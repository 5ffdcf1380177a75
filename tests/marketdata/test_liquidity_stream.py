"""The streams process keeps an order book of every followed symbol (the paper exchange's
real diff-depth stream plus REST snapshots) and publishes its liquidity summary to
Redis, where the selector reads it back; nothing stale is left behind."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
import requests
from asgiref.sync import sync_to_async
from django.db import connection

from apps.marketdata.ingestion import MarketDataShard
from apps.marketdata.liquidity import LiquidityStore, liquidity_key, summarise
from apps.marketdata.selectors import liquidity_summary
from apps.strategies.models import StrategyConfig
from tests.marketdata.test_ingestion import active_config, advance

pytestmark = pytest.mark.django_db(transaction=True)
MINUTE = 60_000


@pytest.fixture
def paper(settings, exchange, redis_client):
    from tests.paper_exchange.conftest import Admin

    settings.PAPER_EXCHANGE_URL = exchange.url
    settings.MARKETDATA_WARMUP_CANDLES = 0
    return Admin(exchange.url)


def rest_book(url: str, symbol: str) -> dict:
    params = {"symbol": symbol, "limit": 1000}
    return requests.get(f"{url}/api/v3/depth", params=params, timeout=10).json()


async def eventually(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await sync_to_async(condition)()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def running(shard: MarketDataShard):
    stop = asyncio.Event()
    task = asyncio.create_task(shard.run(stop))
    await asyncio.wait_for(shard.supervisor.connected.wait(), 10)
    return stop, task


async def test_the_followed_symbols_book_is_summarised_in_redis_and_matches_the_exchange(
    paper, exchange, redis_client
):
    await sync_to_async(active_config)(["BTCUSDT"])
    shard = MarketDataShard(environment="paper", refresh_seconds=0.2)
    stop, task = await running(shard)
    try:
        assert shard.book_symbols == {"BTCUSDT"}
        assert "btcusdt@depth" in set().union(*shard.supervisor.plan.connections)
        await advance(paper, MINUTE // 2, step=1_000)
        summary = await eventually(lambda: liquidity_summary(environment="paper", symbol="BTCUSDT"))
        # The market stands still now: the next summary shows the exchange's own book.
        await asyncio.sleep(shard.liquidity.interval * 2 + 0.2)
        summary = liquidity_summary(environment="paper", symbol="BTCUSDT")
        rest = await asyncio.to_thread(rest_book, exchange.url, "BTCUSDT")
        expected = summarise(
            "BTCUSDT",
            {Decimal(p): Decimal(q) for p, q in rest["bids"]},
            {Decimal(p): Decimal(q) for p, q in rest["asks"]},
            time_ms=0,
            levels=shard.liquidity.levels,
            published_at=0,
        )
        for field in ("best_bid", "best_ask", "spread_bps", "depth_10bps", "depth_50bps"):
            assert summary.data[field] == expected[field], field
        assert summary.data["bids"] == expected["bids"]
        assert summary.data["asks"] == expected["asks"]
        assert summary.data["time_ms"] > 0
        book = summary.book
        assert book.best_bid < book.best_ask
        assert Decimal(summary.data["spread_bps"]) > 0
        # A TTL: a dead process leaves nothing behind for long.
        ttl = redis_client.ttl(liquidity_key("paper", "BTCUSDT"))
        assert 0 < ttl <= 5
    finally:
        stop.set()
        await task


async def test_a_summary_older_than_the_limit_is_not_read(paper, settings, redis_client):
    await sync_to_async(active_config)(["BTCUSDT"])
    shard = MarketDataShard(environment="paper", refresh_seconds=0.2)
    stop, task = await running(shard)
    try:
        await advance(paper, 5_000, step=1_000)
        await eventually(lambda: liquidity_summary(environment="paper", symbol="BTCUSDT"))
    finally:
        stop.set()
        await task
    # The process is gone: within the age limit the summary disappears.
    settings.MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS = 1.0
    await asyncio.sleep(1.2)
    assert liquidity_summary(environment="paper", symbol="BTCUSDT") is None
    assert LiquidityStore(redis_client, "paper").read("BTCUSDT", max_age=60) is not None


async def test_an_unfollowed_symbol_loses_its_book_and_its_summary(paper, redis_client):
    config = await sync_to_async(active_config)(["BTCUSDT", "ETHUSDT"])
    shard = MarketDataShard(environment="paper", refresh_seconds=0.1)
    stop, task = await running(shard)
    try:
        await advance(paper, 5_000, step=1_000)
        await eventually(lambda: liquidity_summary(environment="paper", symbol="ETHUSDT"))

        def drop_eth():
            StrategyConfig.objects.filter(pk=config.pk).update(symbols=["BTCUSDT"])
            connection.close()

        await sync_to_async(drop_eth)()
        await eventually(lambda: shard.book_symbols == {"BTCUSDT"})
        await eventually(lambda: redis_client.get(liquidity_key("paper", "ETHUSDT")) is None)
        assert "ETHUSDT" not in shard.books.books
        # No summary taken before the drop lands after it (publishes every 0.1 s).
        await asyncio.sleep(0.6)
        assert redis_client.get(liquidity_key("paper", "ETHUSDT")) is None
        assert liquidity_summary(environment="paper", symbol="BTCUSDT") is not None
    finally:
        stop.set()
        await task


async def test_order_books_can_be_switched_off(paper, settings, redis_client):
    settings.MARKETDATA_ORDER_BOOKS = False
    await sync_to_async(active_config)(["BTCUSDT"])
    shard = MarketDataShard(environment="paper", refresh_seconds=0.2)
    stop, task = await running(shard)
    try:
        await advance(paper, 5_000, step=1_000)
        await asyncio.sleep(1.5)
        assert shard.book_symbols == set()
        streams = set().union(*shard.supervisor.plan.connections)
        assert streams == {"btcusdt@kline_1m"}
        assert redis_client.get(liquidity_key("paper", "BTCUSDT")) is None
    finally:
        stop.set()
        await task


async def test_a_broken_connection_stops_the_summary_until_the_book_is_back(
    paper, exchange, settings, redis_client
):
    from tests.exchange.support.ws_proxy import StreamFaultProxy

    proxy = StreamFaultProxy(exchange.url.replace("http://", "ws://")).start()
    settings.PAPER_EXCHANGE_STREAM_URL = proxy.url
    settings.MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS = 2.0
    await sync_to_async(active_config)(["BTCUSDT"])
    shard = MarketDataShard(environment="paper", refresh_seconds=0.2)
    stop, task = await running(shard)
    try:
        await advance(paper, 5_000, step=1_000)
        await eventually(lambda: liquidity_summary(environment="paper", symbol="BTCUSDT"))
        # The connection breaks and stays down: the book is no longer known to be
        # current, so it is not published and the summary goes away.
        proxy.refuse()
        proxy.drop_all()
        await asyncio.sleep(2.5)
        assert liquidity_summary(environment="paper", symbol="BTCUSDT") is None
        assert redis_client.get(liquidity_key("paper", "BTCUSDT")) is None
        proxy.refuse(False)
        for _ in range(20):
            await advance(paper, 1_000, step=1_000)
            if liquidity_summary(environment="paper", symbol="BTCUSDT") is not None:
                break
            await asyncio.sleep(0.5)
        summary = liquidity_summary(environment="paper", symbol="BTCUSDT")
        assert summary is not None
        assert summary.book.best_bid < summary.book.best_ask
    finally:
        stop.set()
        await task
        proxy.stop()
