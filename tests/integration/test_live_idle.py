"""A live socket survives a quiet channel: with nothing published for longer than the
Channels layer's blocking read (5 s), the next event still arrives on the same
connection (redis-py 8 reads with a 5 s socket timeout by default, which used to end
the consumer with close code 1011)."""

import asyncio
import json
import time

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client

from apps.dashboard.events import publish
from tests.accounts.factories import make_org, member, otp_login
from tests.trading.support import active_account

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QUIET_SECONDS = 7  # longer than channels_redis' 5 s BZPOPMIN


@sync_to_async(thread_sensitive=False)
def _viewer_session() -> tuple[int, str]:
    try:
        organization = make_org("Quiet channel")
        user = member(organization, "viewer", username="quiet-viewer")
        account = active_account(organization)
        client = Client()
        otp_login(client, user)
        return account.pk, client.cookies["sessionid"].value
    finally:
        connection.close()


@sync_to_async(thread_sensitive=False)
def _publish(account: int) -> None:
    try:
        publish("fill", account_id=account, organization_id=None, data={"trade_id": 1})
    finally:
        connection.close()


async def _next_event(ws, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if message["type"] == "event":
            return message


async def test_an_event_after_a_quiet_spell_reaches_the_open_socket(daphne_server):
    account, cookie = await _viewer_session()
    async with websockets.connect(
        f"{daphne_server.ws_url}/ws/live/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(json.dumps({"type": "subscribe", "accounts": [account]}))
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass
        await asyncio.sleep(QUIET_SECONDS)
        await _publish(account)
        event = await _next_event(ws, timeout=5)
    assert event["account"] == account
    assert event["data"] == {"trade_id": 1}
