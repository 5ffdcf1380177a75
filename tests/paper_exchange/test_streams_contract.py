"""Market streams: unmodified python-binance sockets, control messages, and depth diffs
that rebuild the REST book exactly (Binance's local order book procedure)."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal

import aiohttp
import pytest
import requests
from binance import AsyncClient, BinanceSocketManager
from binance.ws.depthcache import DepthCacheManager

from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import Admin, make_config
from tests.paper_exchange.wsclient import (
    connect,
    nudged,
    quiet,
    receive_json,
    receive_until,
    ws_url,
)

MINUTE = 60_000


@pytest.fixture
async def socket_manager(paper_server):
    client = AsyncClient()
    client.API_URL = f"{paper_server.url}/api"
    manager = BinanceSocketManager(client)
    manager.STREAM_URL = ws_url(paper_server.url) + "/"
    yield manager
    await client.close_connection()


def rest(server, path: str, **params):
    """A public REST call (``server``: anything with the exchange's ``url``)."""
    response = requests.get(f"{server.url}/api/v3/{path}", params=params, timeout=10)
    response.raise_for_status()
    return response.json()


async def advance(admin: Admin, ms: int) -> int:
    return await asyncio.to_thread(admin.advance, ms)


async def test_kline_socket_sends_open_updates_and_a_final_kline(socket_manager, admin):
    async with nudged(socket_manager.kline_socket("BTCUSDT", "1m"), admin) as socket:
        now = await advance(admin, 0)
        to_boundary = MINUTE - now % MINUTE
        await advance(admin, to_boundary + 5_000)
        events = []
        while not any(event["k"]["x"] for event in events):
            events.append(await asyncio.wait_for(socket.recv(), 5))
    final = next(event for event in events if event["k"]["x"])
    kline = final["k"]
    assert (final["e"], kline["s"], kline["i"]) == ("kline", "BTCUSDT", "1m")
    assert kline["T"] == kline["t"] + MINUTE - 1
    row = rest(admin, "klines", symbol="BTCUSDT", interval="1m", startTime=kline["t"], limit=1)[0]
    assert [kline["o"], kline["h"], kline["l"], kline["c"], kline["v"]] == row[1:6]
    assert kline["n"] == row[8]
    # After the final one, the next kline is open.
    later = await _next_open_kline(socket_manager, admin)
    assert later["k"]["x"] is False


async def _next_open_kline(socket_manager, admin):
    async with nudged(socket_manager.kline_socket("ETHUSDT", "1m"), admin) as socket:
        await advance(admin, 3_000)
        return await asyncio.wait_for(socket.recv(), 5)


async def test_trade_socket_matches_the_rest_tape(socket_manager, admin, paper_server):
    async with nudged(socket_manager.trade_socket("BTCUSDT"), admin) as socket:
        start = await advance(admin, 0)
        await advance(admin, 2 * MINUTE)
        trades = [await asyncio.wait_for(socket.recv(), 5)]
        while trades[-1]["T"] < start + 2 * MINUTE - 30_000:
            trades.append(await asyncio.wait_for(socket.recv(), 5))
    assert all(trade["e"] == "trade" and trade["s"] == "BTCUSDT" for trade in trades)
    ids = [trade["t"] for trade in trades]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(start < trade["T"] <= start + 2 * MINUTE for trade in trades)
    tape = rest(paper_server, "aggTrades", symbol="BTCUSDT", fromId=ids[0], limit=len(ids))
    assert [row["a"] for row in tape] == ids
    assert [row["p"] for row in tape] == [trade["p"] for trade in trades]


async def test_multiplex_socket_wraps_payloads_with_their_stream(socket_manager, admin):
    streams = ["btcusdt@aggTrade", "ethusdt@bookTicker", "btcusdt@depth5@100ms"]
    async with nudged(socket_manager.multiplex_socket(streams), admin) as socket:
        await advance(admin, 5_000)
        seen = {}
        while len(seen) < 3:
            message = await asyncio.wait_for(socket.recv(), 5)
            seen.setdefault(message["stream"], message["data"])
    assert seen["btcusdt@aggTrade"]["e"] == "aggTrade"
    assert set(seen["ethusdt@bookTicker"]) == {"u", "s", "b", "B", "a", "A"}
    partial = seen["btcusdt@depth5@100ms"]
    assert len(partial["bids"]) == len(partial["asks"]) == 5


async def test_subscribe_unsubscribe_and_list(paper_server, admin):
    async with connect(ws_url(paper_server.url) + "/ws") as ws:
        await ws.send_json(
            {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@kline_1s"], "id": 1}
        )
        assert await receive_json(ws) == {"result": None, "id": 1}
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": "list2"})
        assert await receive_json(ws) == {
            "result": ["btcusdt@trade", "ethusdt@kline_1s"],
            "id": "list2",
        }
        await ws.send_json({"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 3})
        assert await receive_json(ws) == {"result": None, "id": 3}
        await advance(admin, 3_000)
        events = await quiet(ws, 0.6)
        assert events
        assert {event["e"] for event in events} == {"kline"}
        assert all(event["s"] == "ETHUSDT" for event in events)
        await ws.send_json({"method": "GET_PROPERTY", "params": ["combined"], "id": 4})
        assert await receive_json(ws) == {"result": False, "id": 4}
        await ws.send_json({"method": "SET_PROPERTY", "params": ["combined", True], "id": 5})
        assert await receive_json(ws) == {"result": None, "id": 5}
        await advance(admin, 1_000)
        wrapped = await receive_until(ws, lambda message: "stream" in message)
        assert wrapped[-1]["stream"] == "ethusdt@kline_1s"


async def test_control_message_errors(paper_server):
    async with connect(ws_url(paper_server.url) + "/ws") as ws:
        await ws.send_str("{not json")
        answer = await receive_json(ws)
        assert answer["error"]["code"] == 3
        assert answer["error"]["msg"].startswith("Invalid JSON")
        await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@trade"]})
        assert (await receive_json(ws))["error"]["code"] == 2
        await ws.send_json({"method": "FOO", "id": 7})
        answer = await receive_json(ws)
        assert answer["id"] == 7
        assert "unknown variant FOO" in answer["error"]["msg"]
        await ws.send_json({"method": "SUBSCRIBE", "params": ["nosuch@trade"], "id": 8})
        assert (await receive_json(ws))["error"]["code"] == 2
        await ws.send_json({"method": "GET_PROPERTY", "params": ["colour"], "id": 9})
        assert (await receive_json(ws))["error"] == {"code": 0, "msg": "Unknown property"}


async def test_unknown_stream_names_in_the_url_are_ignored(paper_server):
    url = ws_url(paper_server.url) + "/ws/nosuchusdt@trade/btcusdt@trade/0"
    async with connect(url) as ws:
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert await receive_json(ws) == {"result": ["btcusdt@trade"], "id": 1}


def _apply(book: dict[str, dict[Decimal, str]], event: dict) -> None:
    for side, key in (("bids", "b"), ("asks", "a")):
        for price, qty in event[key]:
            if Decimal(qty) == 0:
                book[side].pop(Decimal(price), None)
            else:
                book[side][Decimal(price)] = qty


def _as_book(snapshot: dict) -> dict[str, dict[Decimal, str]]:
    return {side: {Decimal(p): q for p, q in snapshot[side]} for side in ("bids", "asks")}


@pytest.mark.parametrize("stream", ["btcusdt@depth@100ms", "xrpeth@depth"])
async def test_depth_diffs_rebuild_the_rest_book(paper_server, admin, stream):
    symbol = stream.split("@")[0].upper()
    async with connect(f"{ws_url(paper_server.url)}/ws/{stream}") as ws:
        await advance(admin, 1_500)
        first = await receive_json(ws)
        snapshot = rest(paper_server, "depth", symbol=symbol, limit=1000)
        # The documented procedure: the snapshot's id lies within the first event kept.
        assert first["U"] <= snapshot["lastUpdateId"] + 1 <= first["u"] + 1
        book, last = _as_book(snapshot), snapshot["lastUpdateId"]
        changes = 0
        for step in (300, 1_000, 250, 7_000, 60_000):
            await advance(admin, step)
            truth = rest(paper_server, "depth", symbol=symbol, limit=1000)
            # An event comes when the book changed (none when it did not: the next one
            # then starts where this one would have).
            while book != _as_book(truth):
                event = await receive_json(ws)
                assert (event["e"], event["s"]) == ("depthUpdate", symbol)
                assert event["U"] == last + 1
                assert event["u"] == truth["lastUpdateId"]
                _apply(book, event)
                last = event["u"]
                changes += 1
            assert truth["lastUpdateId"] >= last
        assert changes >= 3


async def test_partial_depth_and_book_ticker_match_rest(paper_server, admin):
    url = f"{ws_url(paper_server.url)}/stream?streams=ethusdt@depth10/ethusdt@bookTicker"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await advance(admin, 2_000)
        seen = {}
        while len(seen) < 2:
            message = await receive_json(ws)
            seen[message["stream"]] = message["data"]
    depth = rest(paper_server, "depth", symbol="ETHUSDT", limit=10)
    partial = seen["ethusdt@depth10"]
    assert partial == {
        "lastUpdateId": depth["lastUpdateId"],
        "bids": depth["bids"],
        "asks": depth["asks"],
    }
    ticker = rest(paper_server, "ticker/bookTicker", symbol="ETHUSDT")
    book = seen["ethusdt@bookTicker"]
    assert (book["b"], book["B"], book["a"], book["A"]) == (
        ticker["bidPrice"],
        ticker["bidQty"],
        ticker["askPrice"],
        ticker["askQty"],
    )


async def test_python_binance_depth_cache_follows_the_book(paper_server, admin):
    client = AsyncClient()
    client.API_URL = f"{paper_server.url}/api"
    manager = BinanceSocketManager(client)
    manager.STREAM_URL = ws_url(paper_server.url) + "/"
    cache_manager = DepthCacheManager(
        client, "BTCUSDT", bm=manager, limit=1000, ws_interval=100, conv_type=Decimal
    )
    try:
        async with nudged(cache_manager, admin) as cache_socket:
            # Each step crosses a second, so the book's quantities change every time.
            for step in (1_000, 2_500, 1_000):
                await advance(admin, step)
                cache = await asyncio.wait_for(cache_socket.recv(), 5)
            truth = rest(paper_server, "depth", symbol="BTCUSDT", limit=1000)
            bids = cache.get_bids()
            asks = cache.get_asks()
            assert [[Decimal(p), Decimal(q)] for p, q in truth["bids"][:20]] == [
                list(b) for b in bids[:20]
            ]
            assert [[Decimal(p), Decimal(q)] for p, q in truth["asks"][:20]] == [
                list(a) for a in asks[:20]
            ]
    finally:
        await client.close_connection()


async def test_streams_flow_with_a_running_clock():
    # Without the test clock the hub follows the wall clock (here at 60x market speed).
    config = make_config(data_dir=None, test_clock=False, speed=60.0)
    server = await asyncio.to_thread(lambda: ServerThread(config).start())
    try:
        url = ws_url(server.url) + "/stream?streams=btcusdt@kline_1m/ethusdt@depth@100ms"
        seen: list = []

        def enough(message) -> bool:
            seen.append(message)
            closed = [m for m in seen if m["stream"] == "btcusdt@kline_1m" and m["data"]["k"]["x"]]
            diffs = [m for m in seen if m["stream"] == "ethusdt@depth@100ms"]
            return bool(closed) and len(diffs) >= 3

        async with connect(url) as ws:
            await receive_until(ws, enough, 10)
        depth = [m["data"] for m in seen if m["stream"] == "ethusdt@depth@100ms"]
        assert len(depth) >= 3
        assert all(b["U"] == a["u"] + 1 for a, b in itertools.pairwise(depth))
    finally:
        await asyncio.to_thread(server.stop)


async def test_time_unit_microsecond(paper_server, admin):
    base = f"{ws_url(paper_server.url)}/ws/btcusdt@trade/btcusdt@kline_1m"
    async with connect(base) as millis, connect(base + "?timeUnit=MICROSECOND") as micros:
        await advance(admin, 5_000)
        first = await receive_json(millis)
        second = await receive_json(micros)
    assert second["e"] == first["e"]
    assert second["E"] == first["E"] * 1000
    if first["e"] == "trade":
        assert (second["T"], second["t"]) == (first["T"] * 1000, first["t"])
    else:
        assert second["k"]["t"] == first["k"]["t"] * 1000
        assert second["k"]["T"] == first["k"]["T"] * 1000 + 999
