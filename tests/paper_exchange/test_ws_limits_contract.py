"""WebSocket limits as production sets them: connection attempts, messages per second,
streams per connection, pings, lifetime, compression, subscriptions per session."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import pytest

from apps.paper_exchange.config import RateLimits
from apps.paper_exchange.server import routes_streams
from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import make_config
from tests.paper_exchange.wsclient import connect, receive_json, signed_params, ws_url


@contextlib.contextmanager
def running(**overrides):
    server = ServerThread(make_config(data_dir=None, **overrides)).start()
    try:
        yield server
    finally:
        server.stop()


async def closed_within(ws, seconds: float) -> bool:
    try:
        while True:
            message = await asyncio.wait_for(ws.receive(), seconds)
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return True
    except TimeoutError:
        return False


async def test_connection_attempts_per_ip():
    limits = RateLimits(weight=10**6, ws_connections=3)
    with running(limits=limits) as server:
        url = ws_url(server.url) + "/ws/btcusdt@trade"
        for _ in range(3):
            async with connect(url):
                pass
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url)
        assert refused.value.status == 429


async def test_more_than_five_messages_a_second_disconnects(paper_server):
    async with connect(ws_url(paper_server.url) + "/ws") as ws:
        for number in range(6):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": number})
        answers = [await receive_json(ws) for _ in range(5)]
        assert [answer["id"] for answer in answers] == list(range(5))
        assert await closed_within(ws, 2)


async def test_stream_cap_per_connection(paper_server, monkeypatch):
    # Fourteen symbols cannot name 1025 different streams: check the cap at a smaller value.
    assert routes_streams.MAX_STREAMS == 1024
    monkeypatch.setattr(routes_streams, "MAX_STREAMS", 4)
    names = [f"btcusdt@kline_{interval}" for interval in ("1s", "1m", "3m", "5m", "15m")]
    async with connect(ws_url(paper_server.url) + "/ws") as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": names[:4], "id": 1})
        assert (await receive_json(ws))["result"] is None
        await ws.send_json({"method": "SUBSCRIBE", "params": names[:4], "id": 2})
        assert (await receive_json(ws))["result"] is None  # already subscribed: no change
        await ws.send_json({"method": "SUBSCRIBE", "params": names[4:], "id": 3})
        answer = await receive_json(ws)
        assert answer["error"]["code"] == 2
        assert "at most 4 streams" in answer["error"]["msg"]


async def test_server_pings_and_drops_a_silent_client():
    with running(ws_ping_seconds=0.3, ws_pong_timeout_seconds=1.0) as server:
        url = ws_url(server.url) + "/ws/btcusdt@trade"
        async with connect(url, autoping=False) as silent, connect(url) as polite:
            message = await asyncio.wait_for(silent.receive(), 2)
            assert message.type == aiohttp.WSMsgType.PING
            started = time.monotonic()
            assert await closed_within(silent, 3)
            assert time.monotonic() - started >= 0.5  # pings came, pongs did not
            assert not polite.closed


async def test_connections_end_after_their_lifetime():
    with running(ws_max_lifetime_seconds=0.4) as server:
        async with connect(ws_url(server.url) + "/ws/btcusdt@trade") as ws:
            assert await closed_within(ws, 3)
        async with connect(ws_url(server.url) + "/ws-api/v3") as ws:
            assert await closed_within(ws, 3)


async def test_permessage_deflate_is_accepted(paper_server):
    async with connect(ws_url(paper_server.url) + "/ws/btcusdt@trade", compress=15) as ws:
        assert ws.compress == 15
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert await receive_json(ws) == {"result": ["btcusdt@trade"], "id": 1}


async def test_websocket_api_connect_weight_and_subscription_cap():
    with running() as server:
        keys = [server.call(server.exchange.create_key) for _ in range(1001)]
        async with connect(ws_url(server.url) + "/ws-api/v3") as ws:
            await ws.send_json({"id": 0, "method": "ping"})
            assert (await receive_json(ws))["rateLimits"][-1]["count"] == 3  # 2 + 1
            for number, key in enumerate(keys):
                params = signed_params(key)
                await ws.send_json(
                    {"id": number, "method": "userDataStream.subscribe.signature", "params": params}
                )
            answers = [await receive_json(ws) for _ in keys]
        assert [answer["status"] for answer in answers[:1000]] == [200] * 1000
        assert answers[1000]["status"] == 400
        assert answers[1000]["error"]["code"] == -1191
        assert answers[999]["rateLimits"][-1]["count"] == 3 + 2 * 1000
