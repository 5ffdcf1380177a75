"""The live channel over the real ASGI stack: daphne, Channels, the Redis layer."""

import asyncio
import json

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from websockets.exceptions import InvalidStatus

from apps.accounts.models import Membership, Organization
from apps.dashboard.live import publish_heartbeat
from tests.accounts.factories import otp_login

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def test_anonymous_users_are_rejected(daphne_server):
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(
            f"{daphne_server.ws_url}/ws/live/", origin="http://127.0.0.1"
        ):
            pass
    assert caught.value.response.status_code == 403


async def test_foreign_origins_are_rejected(daphne_server):
    with pytest.raises(InvalidStatus):
        async with websockets.connect(
            f"{daphne_server.ws_url}/ws/live/", origin="http://evil.example.com"
        ):
            pass


def _session_cookie(*, verified: bool = True, username: str = "trader") -> str:
    """A session of a trader (a role that must use a second factor)."""
    try:
        user = get_user_model().objects.create_user(username, password="a-long-test-password")
        organization = Organization.objects.create(name=f"WS {username}", slug=f"ws-{username}")
        Membership.objects.create(organization=organization, user=user, role="trader")
        client = Client()
        if verified:
            otp_login(client, user)
        else:
            client.force_login(user)  # password only: no second factor in this session
        return client.cookies["sessionid"].value
    finally:
        connection.close()  # runs in a worker thread; don't leave its connection open


async def test_a_session_without_otp_verification_is_refused(daphne_server):
    cookie = await sync_to_async(_session_cookie)(verified=False, username="unverified")
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(
            f"{daphne_server.ws_url}/ws/live/",
            origin="http://127.0.0.1",
            additional_headers={"Cookie": f"sessionid={cookie}"},
        ):
            pass
    # Refused before the handshake completes (the consumer closes with 4403).
    assert caught.value.response.status_code == 403


async def test_authenticated_user_gets_hello_pong_and_heartbeats(daphne_server):
    cookie = await sync_to_async(_session_cookie)()
    async with websockets.connect(
        f"{daphne_server.ws_url}/ws/live/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello"
        assert hello["user"] == "trader"
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong"
        await sync_to_async(publish_heartbeat)()  # from this process, through Redis
        beat = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert beat["type"] == "heartbeat"
        assert beat["server_time_ms"] > 0


async def test_live_pages_receive_throttled_market_prices(daphne_server):
    from apps.marketdata.tickers import TickerPublisher

    cookie = await sync_to_async(_session_cookie)(username="watcher")
    async with websockets.connect(
        f"{daphne_server.ws_url}/ws/live/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
        # As the streams process does: through the Redis channel layer, throttled.
        publisher = TickerPublisher("paper", interval=60)
        sent = [await publisher.offer("BTCUSDT", f"{60000 + i}.5", 1_000 + i) for i in range(5)]
        assert sent == [True, False, False, False, False]
        assert await publisher.offer("ETHUSDT", "3000", 2_000)
        received = []
        while len(received) < 2:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "ticker":
                received.append(message)
        assert received == [
            {"type": "ticker", "environment": "paper", "symbol": "BTCUSDT",
             "price": "60000.5", "time_ms": 1000},
            {"type": "ticker", "environment": "paper", "symbol": "ETHUSDT",
             "price": "3000", "time_ms": 2000},
        ]  # fmt: skip
