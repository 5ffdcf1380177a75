"""ccxt.pro (unmodified, URLs overridden): candles, order book and orders over WebSockets."""

from __future__ import annotations

import asyncio
import contextlib

import ccxt.pro
import pytest

from tests.paper_exchange.wsclient import ws_url


@pytest.fixture
async def pro(paper_server, account):
    exchange = ccxt.pro.binance(
        {
            "apiKey": account["apiKey"],
            "secret": account["secretKey"],
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
            },
        }
    )
    for name in ("public", "private"):
        exchange.urls["api"][name] = f"{paper_server.url}/api/v3"
    exchange.urls["api"]["v1"] = f"{paper_server.url}/api/v1"
    exchange.urls["api"]["sapi"] = f"{paper_server.url}/sapi/v1"
    base = ws_url(paper_server.url)
    exchange.urls["api"]["ws"]["spot"] = f"{base}/ws"
    exchange.urls["api"]["ws"]["ws-api"]["spot"] = f"{base}/ws-api/v3"
    yield exchange
    await exchange.close()


async def advance_soon(admin, ms: int, delay: float = 0.3) -> None:
    await asyncio.sleep(delay)
    await asyncio.to_thread(admin.advance, ms)


async def first(watch, admin, ms: int):
    """The first answer of `watch`, moving the market every 0.3 s until it comes: a
    single move a fixed time after the call could land before ccxt has subscribed (it
    loads the markets and connects first), and nothing would arrive (CI flake)."""

    async def keep_moving():
        while True:
            await advance_soon(admin, ms)

    mover = asyncio.create_task(keep_moving())
    try:
        return await asyncio.wait_for(watch, 10)
    finally:
        mover.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await mover


async def test_watch_ohlcv(pro, admin):
    candles = await first(pro.watch_ohlcv("BTC/USDT", "1m"), admin, 65_000)
    await asyncio.sleep(0.3)  # a move already sent when the mover stopped
    rest = await pro.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert candles
    newest = candles[-1]
    assert newest[0] % 60_000 == 0
    assert newest[0] in [row[0] for row in rest]
    assert all(row[3] <= row[1] <= row[2] for row in candles)


async def test_watch_order_book(pro, admin, paper_server):
    book = await first(pro.watch_order_book("ETH/USDT", limit=20), admin, 1_500)
    for _ in range(3):
        mover = asyncio.create_task(advance_soon(admin, 1_100, delay=0.1))
        book = await asyncio.wait_for(pro.watch_order_book("ETH/USDT", limit=20), 10)
        await mover
    await asyncio.sleep(0.3)
    truth = await pro.fetch_order_book("ETH/USDT", limit=20)
    assert book["bids"][:20] == truth["bids"][:20]
    assert book["asks"][:20] == truth["asks"][:20]
    assert book["nonce"] == truth["nonce"]


async def test_watch_orders(pro, admin):
    watcher = asyncio.create_task(pro.watch_orders("BTC/USDT"))
    placed = []
    # An order placed before ccxt has subscribed is never reported to it: place another
    # until the watcher answers (one is enough unless the machine is slow).
    for _ in range(5):
        await asyncio.sleep(0.5)
        placed.append((await pro.create_order("BTC/USDT", "market", "buy", 0.001))["id"])
        done, _pending = await asyncio.wait({watcher}, timeout=2)
        if done:
            break
    orders = watcher.result()
    assert orders[-1]["id"] in placed
    assert orders[-1]["status"] in ("open", "closed")
    while orders[-1]["status"] != "closed":
        orders = await asyncio.wait_for(pro.watch_orders("BTC/USDT"), 10)
    assert orders[-1]["filled"] == 0.001
    assert orders[-1]["fee"]["currency"] == "BTC"
