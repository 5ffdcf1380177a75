"""Local order books over the paper exchange's real depth stream: they equal the
exchange's REST book, and out-of-order or duplicated diffs force a resync."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import requests

from apps.exchange.streams.depth import OrderBookFeeds, depth_stream
from apps.exchange.streams.supervisor import MarketStreamSupervisor, SupervisorConfig
from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import Admin, make_config


@pytest.fixture(scope="module")
def exchange():
    server = ServerThread(make_config()).start()
    yield server
    server.stop()


@pytest.fixture
def admin(exchange):
    admin = Admin(exchange.url)
    admin.clear_faults()
    yield admin
    admin.clear_faults()


def rest_depth(url: str, symbol: str) -> dict:
    params = {"symbol": symbol, "limit": 1000}
    return requests.get(f"{url}/api/v3/depth", params=params, timeout=10).json()


def as_levels(levels) -> dict:
    return {Decimal(p): Decimal(q) for p, q in levels if Decimal(q) != 0}


async def follow(exchange, feeds):
    supervisor = MarketStreamSupervisor(
        exchange.url.replace("http://", "ws://"),
        on_closed_kline=lambda *args: asyncio.sleep(0),
        backfill=lambda *args: [],
        on_event=feeds.on_event,
        config=SupervisorConfig(backoff_initial=0.05),
    )
    supervisor.start()
    await supervisor.subscribe([depth_stream("BTCUSDT")])
    await asyncio.wait_for(supervisor.connected.wait(), 10)
    return supervisor


async def advance(admin, steps: int, ms: int = 1_000):
    for _ in range(steps):
        await asyncio.to_thread(admin.advance, ms)
        await asyncio.sleep(0.05)


async def test_the_local_book_equals_the_exchanges_book(exchange, admin):
    feeds = OrderBookFeeds(lambda symbol: rest_depth(exchange.url, symbol))
    supervisor = await follow(exchange, feeds)
    try:
        await advance(admin, 3)
        book = await feeds.wait_synced("BTCUSDT")
        await advance(admin, 5)
        await asyncio.sleep(0.3)
        rest = rest_depth(exchange.url, "BTCUSDT")
        assert book.last_update_id == rest["lastUpdateId"]
        assert book.bids == as_levels(rest["bids"])
        assert book.asks == as_levels(rest["asks"])
    finally:
        await supervisor.stop()


async def test_out_of_order_diffs_trigger_a_resync_and_the_book_recovers(exchange, admin):
    feeds = OrderBookFeeds(lambda symbol: rest_depth(exchange.url, symbol))
    supervisor = await follow(exchange, feeds)
    try:
        await advance(admin, 3)
        book = await feeds.wait_synced("BTCUSDT")
        admin.faults(streams={"reorderDepth": 1.0})
        await advance(admin, 3)
        assert book.resyncs >= 1
        admin.clear_faults()
        await advance(admin, 4)
        await feeds.wait_synced("BTCUSDT")
        await advance(admin, 2)
        await asyncio.sleep(0.3)
        rest = rest_depth(exchange.url, "BTCUSDT")
        assert book.bids == as_levels(rest["bids"])
        assert book.asks == as_levels(rest["asks"])
    finally:
        await supervisor.stop()


async def test_duplicated_diffs_are_ignored_without_a_resync(exchange, admin):
    feeds = OrderBookFeeds(lambda symbol: rest_depth(exchange.url, symbol))
    supervisor = await follow(exchange, feeds)
    try:
        await advance(admin, 3)
        book = await feeds.wait_synced("BTCUSDT")
        resyncs = book.resyncs
        admin.faults(streams={"duplicateDepth": 1.0})
        await advance(admin, 3)
        await asyncio.sleep(0.3)
        assert book.resyncs == resyncs
        rest = rest_depth(exchange.url, "BTCUSDT")
        assert book.bids == as_levels(rest["bids"])
    finally:
        await supervisor.stop()
