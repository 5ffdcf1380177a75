"""The streams process's market half against the paper exchange: closed candles land
in the database and the cache once each, for the shard that owns the symbol, and the
followed set tracks configuration changes without a restart."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
import requests
from asgiref.sync import sync_to_async
from django.db import connection

from apps.accounts.actors import Actor
from apps.accounts.models import ExchangeAccount
from apps.marketdata.cache import MarketCache
from apps.marketdata.ingestion import HEARTBEAT_PREFIX, MarketDataShard, parse_shard, shard_of
from apps.marketdata.models import Candle, Symbol
from apps.marketdata.services import ensure_symbol
from apps.strategies import services as strategy_services
from apps.strategies.models import StrategyConfig
from tests.accounts.factories import make_account, make_org, member
from tests.paper_exchange.conftest import Admin

pytestmark = pytest.mark.django_db(transaction=True)
MINUTE = 60_000


@pytest.fixture
def paper(settings, exchange, redis_client):
    settings.PAPER_EXCHANGE_URL = exchange.url
    return Admin(exchange.url)


def active_config(symbols: list[str]) -> StrategyConfig:
    organization = make_org()
    member(organization, "admin")
    account = make_account(organization)
    ExchangeAccount.objects.filter(pk=account.pk).update(status="active")
    for symbol in ("BTCUSDT", "ETHUSDT"):
        ensure_symbol(environment="paper", name=symbol)
    config = strategy_services.create_strategy_config(
        actor=Actor.for_system(),
        account=account,
        name="trend",
        strategy="trend_following",
        symbols=symbols,
        interval="1m",
    )
    StrategyConfig.objects.filter(pk=config.pk).update(enabled=True)
    connection.close()
    return config


async def advance(admin: Admin, ms: int, step: int = MINUTE // 4) -> int:
    now = 0
    for _ in range(ms // step):
        now = await asyncio.to_thread(admin.advance, step)
        await asyncio.sleep(0.02)
    return now


def stored_open_times(symbol: str) -> list[int]:
    try:
        rows = Candle.objects.filter(symbol__name=symbol, interval="1m").order_by("open_time")
        return [int(c.open_time.timestamp() * 1000) for c in rows]
    finally:
        connection.close()


def test_shards_split_symbols_stably():
    symbols = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "XRPETH", "ETHBTC", "LTCBTC"]
    owners = {symbol: shard_of(symbol, 3) for symbol in symbols}
    assert owners == {symbol: shard_of(symbol, 3) for symbol in symbols}
    assert set(owners.values()) <= {0, 1, 2}
    assert parse_shard("1/3") == (1, 3)
    with pytest.raises(ValueError, match="shard"):
        parse_shard("3/3")


async def test_closed_candles_reach_the_database_and_cache_once(paper, exchange, redis_client):
    await sync_to_async(active_config)(["BTCUSDT"])
    shard = MarketDataShard(environment="paper", refresh_seconds=0.2)
    stop = asyncio.Event()
    runner = asyncio.create_task(shard.run(stop))
    try:
        await asyncio.wait_for(shard.supervisor.connected.wait(), 10)
        now = await advance(paper, 4 * MINUTE)
        last_closed = (now // MINUTE) * MINUTE - MINUTE
        for _ in range(100):
            stored = await sync_to_async(stored_open_times)("BTCUSDT")
            if stored and stored[-1] >= last_closed:
                break
            await asyncio.sleep(0.1)
        assert len(stored) >= 3
        assert stored == sorted(set(stored))
        rows = requests.get(
            f"{exchange.url}/api/v3/klines",
            params={"symbol": "BTCUSDT", "interval": "1m", "startTime": stored[0],
                    "endTime": stored[-1]},
            timeout=10,
        ).json()  # fmt: skip
        assert stored == [int(row[0]) for row in rows]
        cached = MarketCache(redis_client, "paper").window("BTCUSDT", "1m")
        assert int(cached[-1][0]) == stored[-1]
        beat = json.loads(redis_client.get(f"{HEARTBEAT_PREFIX}paper:0"))
        assert beat["streams"] == 1
    finally:
        stop.set()
        await runner


async def _eventually(condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    assert condition()


async def test_the_followed_streams_track_configuration_changes(paper, settings, redis_client):
    settings.MARKETDATA_WARMUP_CANDLES = 0
    config = await sync_to_async(active_config)(["BTCUSDT"])
    shard = MarketDataShard(environment="paper", refresh_seconds=0.1)
    stop = asyncio.Event()
    runner = asyncio.create_task(shard.run(stop))
    try:
        await _eventually(lambda: shard.followed == {"btcusdt@kline_1m"})

        def add_eth():
            StrategyConfig.objects.filter(pk=config.pk).update(symbols=["BTCUSDT", "ETHUSDT"])
            connection.close()

        await sync_to_async(add_eth)()
        await _eventually(lambda: shard.followed == {"btcusdt@kline_1m", "ethusdt@kline_1m"})

        def pause():
            StrategyConfig.objects.filter(pk=config.pk).update(enabled=False)
            connection.close()

        await sync_to_async(pause)()
        await _eventually(lambda: shard.followed == set())
    finally:
        stop.set()
        await runner


async def test_a_newly_followed_stream_starts_with_its_history(paper, settings, redis_client):
    settings.MARKETDATA_WARMUP_CANDLES = 50
    await sync_to_async(active_config)(["ETHUSDT"])
    closed = []
    shard = MarketDataShard(
        environment="paper",
        refresh_seconds=60,
        on_closed_candle=lambda *args: closed.append(args),
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(shard.run(stop))
    try:
        await asyncio.wait_for(shard.supervisor.connected.wait(), 10)
        stored = await sync_to_async(stored_open_times)("ETHUSDT")
        # About 50 closed minutes (the open one excluded), before any new close.
        assert 48 <= len(stored) <= 50
        assert stored == list(range(stored[0], stored[-1] + MINUTE, MINUTE))
        cached = MarketCache(redis_client, "paper").window("ETHUSDT", "1m")
        assert [int(row[0]) for row in cached] == stored
        # History is not a closed candle to trade on.
        assert closed == []
    finally:
        stop.set()
        await runner


async def test_the_first_shard_syncs_symbol_statuses_from_exchange_info(paper, exchange):
    await sync_to_async(active_config)(["BTCUSDT"])
    requests.post(
        f"{exchange.url}/admin/symbols",
        json={"symbol": "ETHUSDT", "status": "BREAK"},
        headers=paper.session.headers,
        timeout=10,
    ).raise_for_status()
    try:
        first = MarketDataShard(environment="paper", shard=0, shard_count=2)
        other = MarketDataShard(environment="paper", shard=1, shard_count=2)

        def statuses():
            try:
                return dict(
                    Symbol.objects.filter(environment="paper").values_list("name", "status")
                )
            finally:
                connection.close()

        await other._maybe_sync_symbols()
        assert (await sync_to_async(statuses)()).get("ETHUSDT") == "UNKNOWN"
        await first._maybe_sync_symbols()
        synced = await sync_to_async(statuses)()
        assert synced["ETHUSDT"] == "BREAK"
        assert synced["BTCUSDT"] == "TRADING"
    finally:
        requests.post(
            f"{exchange.url}/admin/symbols",
            json={"symbol": "ETHUSDT", "status": "TRADING"},
            headers=paper.session.headers,
            timeout=10,
        ).raise_for_status()


async def test_open_kline_updates_become_throttled_tickers(paper, settings):
    from channels.layers import get_channel_layer

    settings.MARKETDATA_WARMUP_CANDLES = 0
    await sync_to_async(active_config)(["BTCUSDT"])
    layer = get_channel_layer()  # the real Redis layer, as the live pages use it
    listener = await layer.new_channel()
    await layer.group_add("market.paper", listener)
    shard = MarketDataShard(environment="paper", refresh_seconds=60)
    shard.tickers.throttle.interval = 3600  # one per symbol for the whole test
    stop = asyncio.Event()
    runner = asyncio.create_task(shard.run(stop))
    try:
        await asyncio.wait_for(shard.supervisor.connected.wait(), 10)
        await advance(paper, 2 * MINUTE, step=MINUTE // 6)
        message = await asyncio.wait_for(layer.receive(listener), 10)
        assert message["type"] == "market.ticker"
        assert message["symbol"] == "BTCUSDT"
        assert Decimal(message["price"]) > 0
        # Twelve kline updates went by: the throttle let one through.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(listener), 1)
    finally:
        await layer.group_discard("market.paper", listener)
        stop.set()
        await runner


async def test_candles_that_closed_while_no_process_followed_are_delivered_on_restart(
    paper, settings, redis_client
):
    """A streams process killed and started again: the candles that closed in between
    still reach the cycle hook, once each, when the next close reveals the gap (found
    by the soak: they used to be stored as history, never traded on nor recorded)."""
    settings.MARKETDATA_WARMUP_CANDLES = 50
    await sync_to_async(active_config)(["BTCUSDT"])
    closed = []

    async def follow(then=None) -> None:
        shard = MarketDataShard(
            environment="paper",
            refresh_seconds=60,
            on_closed_candle=lambda env, symbol, interval, open_ms: closed.append(open_ms),
        )
        stop = asyncio.Event()
        runner = asyncio.create_task(shard.run(stop))
        try:
            await asyncio.wait_for(shard.supervisor.connected.wait(), 10)
            await asyncio.sleep(0.5)
            if then is not None:
                await then()
        finally:
            stop.set()
            await runner

    await follow()
    assert closed == []
    before = (await sync_to_async(stored_open_times)("BTCUSDT"))[-1]
    now = await advance(paper, 3 * MINUTE)  # nobody follows the market now
    missed = list(range(before + MINUTE, (now // MINUTE) * MINUTE, MINUTE))
    assert len(missed) >= 2

    async def next_close():
        await advance(paper, MINUTE)
        await _eventually(lambda: len(closed) > len(missed))

    await follow(then=next_close)
    assert closed == [*missed, missed[-1] + MINUTE]


def test_the_catch_up_on_connect_reads_the_exchanges_clock(paper, exchange):
    """A host clock two minutes behind the exchange's would have the catch-up miss the
    last two closes: it asks the exchange's time (the host's plus the measured offset)."""
    paper.faults(clockSkewMs=120_000)
    try:
        shard = MarketDataShard(environment="paper", refresh_seconds=60)
        shard._gateway.sync_time()
        ahead = shard.supervisor._clock() - int(time.time() * 1000)
        assert 119_000 < ahead < 121_000
    finally:
        paper.clear_faults()
