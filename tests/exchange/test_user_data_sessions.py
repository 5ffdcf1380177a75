"""User data for many accounts on one WebSocket API connection, against the paper
exchange: events reach the right account, and a dropped connection re-subscribes
every account and asks for their reconciliation."""

from __future__ import annotations

import asyncio

import pytest
from binance import Client

from apps.exchange.credentials import Credentials
from apps.exchange.streams.user_data import UserDataSessions
from tests.exchange.support.paper import ADMIN_TOKEN
from tests.exchange.support.ws_proxy import StreamFaultProxy
from tests.paper_exchange.conftest import Admin


@pytest.fixture
def proxy(paper_exchange):
    proxy = StreamFaultProxy(paper_exchange.url.replace("http://", "ws://")).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def keys(paper_exchange):
    admin = Admin(paper_exchange.url, token=ADMIN_TOKEN)
    return [admin.create_key({"USDT": "100000"}) for _ in range(3)]


def buy(paper_exchange, key: dict) -> dict:
    client = Client(key["apiKey"], key["secretKey"], ping=False)
    client.API_URL = f"{paper_exchange.url}/api"
    client.REQUEST_RECVWINDOW = 5000
    return client.create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")


class Recorder:
    def __init__(self):
        self.events: list[tuple[object, dict]] = []
        self.gaps: list[object] = []

    async def on_event(self, account_id, event):
        self.events.append((account_id, event))

    async def on_gap(self, account_id):
        self.gaps.append(account_id)

    async def wait_for(self, account_id, event_type: str, timeout: float = 10.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for owner, event in self.events:
                if owner == account_id and event.get("e") == event_type:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {event_type} for {account_id}: {self.events}")


def sessions_for(proxy, recorder, **options) -> UserDataSessions:
    return UserDataSessions(
        f"{proxy.url}/ws-api/v3",
        on_event=recorder.on_event,
        on_gap=recorder.on_gap,
        backoff_initial=0.05,
        backoff_max=0.2,
        **options,
    )


def credentials(key: dict) -> Credentials:
    return Credentials(api_key=key["apiKey"], api_secret=key["secretKey"])


async def test_each_accounts_events_reach_that_account_only(paper_exchange, proxy, keys):
    recorder = Recorder()
    sessions = sessions_for(proxy, recorder)
    for number, key in enumerate(keys):
        await sessions.add(f"account-{number}", credentials(key))
    try:
        await sessions.wait_ready()
        assert proxy.connections == 1  # three accounts multiplexed on one connection
        order = await asyncio.to_thread(buy, paper_exchange, keys[1])
        report = await recorder.wait_for("account-1", "executionReport")
        assert report["c"] == order["clientOrderId"]
        await asyncio.sleep(0.2)
        assert {owner for owner, _ in recorder.events} == {"account-1"}
    finally:
        await sessions.stop()


async def test_a_dropped_connection_resubscribes_and_reconciles_every_account(
    paper_exchange, proxy, keys
):
    recorder = Recorder()
    sessions = sessions_for(proxy, recorder)
    for number, key in enumerate(keys):
        await sessions.add(f"account-{number}", credentials(key))
    try:
        await sessions.wait_ready()
        proxy.drop_all()
        deadline = asyncio.get_running_loop().time() + 10
        while len(recorder.gaps) < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        assert sorted(recorder.gaps) == ["account-0", "account-1", "account-2"]
        assert sessions.reconnects >= 1
        await asyncio.to_thread(buy, paper_exchange, keys[2])
        await recorder.wait_for("account-2", "executionReport")
    finally:
        await sessions.stop()


async def test_a_refused_key_does_not_take_the_other_accounts_down(paper_exchange, proxy, keys):
    recorder = Recorder()
    sessions = sessions_for(proxy, recorder)
    await sessions.add("revoked", Credentials(api_key="x" * 64, api_secret="y" * 64))
    await sessions.add("good", credentials(keys[0]))
    try:
        await sessions.wait_ready()
        assert "revoked" in sessions.refused
        await asyncio.to_thread(buy, paper_exchange, keys[0])
        await recorder.wait_for("good", "executionReport")
    finally:
        await sessions.stop()


async def test_accounts_beyond_the_per_connection_limit_open_another_connection(
    paper_exchange, proxy, keys
):
    recorder = Recorder()
    sessions = sessions_for(proxy, recorder, per_connection=2)
    for number, key in enumerate(keys):
        await sessions.add(f"account-{number}", credentials(key))
    try:
        await sessions.wait_ready()
        assert proxy.connections == 2
        await asyncio.to_thread(buy, paper_exchange, keys[2])
        await recorder.wait_for("account-2", "executionReport")
    finally:
        await sessions.stop()
