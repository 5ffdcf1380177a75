"""Live account events over the real stack: daphne, Channels on the Redis layer, the
trading services publishing after commit."""

import asyncio
import json
import time
from decimal import Decimal

import pytest
import websockets
from django.test import Client
from websockets.exceptions import InvalidStatus

from apps.accounts.actors import Actor
from apps.accounts.services import pause_account
from apps.monitoring.alerts import raise_alert
from tests.accounts.factories import make_org, member, otp_login
from tests.support.threads import in_worker_thread
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@in_worker_thread
def _tenant(name: str, *, verified: bool = True) -> dict:
    """An organization with one active paper account, a config, and a trader's session."""
    organization = make_org(f"Live {name}")
    user = member(organization, "trader", username=f"live-{name}")
    account = active_account(organization)
    config = make_config(account, name=f"live {name}")
    client = Client()
    if verified:
        otp_login(client, user)
    else:
        client.force_login(user)
    return {
        "organization": organization.pk,
        "account": account.pk,
        "config": config,
        "cookie": client.cookies["sessionid"].value,
    }


@in_worker_thread
def _buy_and_fill(config, *, price="60000", quantity="0.01") -> int:
    order = order_for(config, quantity=quantity)
    record, created = fill(order, price=price, quantity=quantity)
    assert created
    return record.exchange_trade_id


@in_worker_thread
def _sync_symbols():
    sync_default_symbols()


def _connect(server, cookie):
    return websockets.connect(
        f"{server.ws_url}/ws/live/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    )


async def _next(ws, kind: str, timeout: float = 10) -> dict:
    """The next message of `kind` ("event" messages may be filtered by event kind)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        message = json.loads(await asyncio.wait_for(ws.recv(), max(remaining, 0.001)))
        if message["type"] == kind or (message["type"] == "event" and message["kind"] == kind):
            return message


async def _subscribed(ws, **targets) -> dict:
    assert (await _next(ws, "hello"))["type"] == "hello"
    await ws.send(json.dumps({"type": "subscribe", **targets}))
    return await _next(ws, "subscribed")


@pytest.fixture
async def symbols():
    await _sync_symbols()


async def test_a_member_receives_their_accounts_fill_within_a_second(daphne_server, symbols):
    mine = await _tenant("alpha")
    async with _connect(daphne_server, mine["cookie"]) as ws:
        await _subscribed(ws, accounts=[mine["account"]])
        trade_id = await _buy_and_fill(mine["config"])
        recorded = time.monotonic()  # the fill's transaction has committed
        event = await _next(ws, "fill", timeout=1.0)
        assert time.monotonic() - recorded < 1.0
    assert event["account"] == mine["account"]
    assert event["organization"] == mine["organization"]
    assert event["group"] == f"live.account.{mine['account']}"
    assert event["data"]["trade_id"] == trade_id
    assert Decimal(event["data"]["price"]) == Decimal("60000")
    assert Decimal(event["data"]["quantity"]) == Decimal("0.01")


async def test_the_order_and_position_follow_the_fill_in_sequence(daphne_server, symbols):
    mine = await _tenant("seq")
    async with _connect(daphne_server, mine["cookie"]) as ws:
        start = (await _subscribed(ws, accounts=[mine["account"]]))["seq"]
        await _buy_and_fill(mine["config"])
        events = [await _next(ws, "event") for _ in range(4)]
    # create_order (pending), then apply_fill: the fill, its order, its position.
    assert [e["kind"] for e in events] == ["order", "fill", "order", "position"]
    first = start[f"live.account.{mine['account']}"]
    assert [e["seq"] for e in events] == [first + 1, first + 2, first + 3, first + 4]
    assert events[2]["data"]["status"] == "filled"
    assert events[3]["data"]["status"] == "open"
    assert Decimal(events[3]["data"]["quantity"]) == Decimal("0.01")


async def test_another_organizations_account_is_refused_and_its_events_never_arrive(
    daphne_server, symbols
):
    mine = await _tenant("own")
    theirs = await _tenant("foreign")
    async with _connect(daphne_server, mine["cookie"]) as ws:
        assert (await _next(ws, "hello"))["type"] == "hello"
        for request in (
            {"accounts": [theirs["account"]]},
            {"accounts": [mine["account"], theirs["account"]]},
            {"organizations": [theirs["organization"]]},
        ):
            await ws.send(json.dumps({"type": "subscribe", **request}))
            refused = await _next(ws, "error")
            assert refused["code"] == "permission_denied"
        await ws.send(json.dumps({"type": "resume", "account": theirs["account"], "after": 0}))
        assert (await _next(ws, "error"))["code"] == "permission_denied"
        # Subscribed to everything that is ours, theirs happens, then ours.
        await ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "accounts": [mine["account"]],
                    "organizations": [mine["organization"]],
                }
            )
        )
        await _next(ws, "subscribed")
        await _buy_and_fill(theirs["config"])
        await in_worker_thread(raise_alert)(
            "warning", "live_test", "theirs", account_id=theirs["account"]
        )
        await _buy_and_fill(mine["config"], price="61000")
        received = []
        while not any(e["kind"] == "position" for e in received):
            received.append(await _next(ws, "event"))
    # Ours arrives on both of our groups; nothing of theirs on either.
    assert {e["account"] for e in received} == {mine["account"]}
    assert {e["organization"] for e in received} == {mine["organization"]}
    assert all("61000" in json.dumps(e["data"]) for e in received if e["kind"] == "fill")


async def test_a_session_without_otp_verification_is_refused(daphne_server, symbols):
    unverified = await _tenant("no-otp", verified=False)
    with pytest.raises(InvalidStatus) as caught:
        async with _connect(daphne_server, unverified["cookie"]):
            pass
    assert caught.value.response.status_code == 403


async def test_resume_after_a_disconnect_delivers_the_missed_events_in_order(
    daphne_server, symbols
):
    mine = await _tenant("resume")
    group = f"live.account.{mine['account']}"
    async with _connect(daphne_server, mine["cookie"]) as ws:
        await _subscribed(ws, accounts=[mine["account"]])
        await _buy_and_fill(mine["config"])
        seen = [await _next(ws, "event") for _ in range(4)]
    last = seen[-1]["seq"]
    # While disconnected: another fill, an alert and a status change.
    await _buy_and_fill(mine["config"], price="60500")
    await in_worker_thread(raise_alert)(
        "warning", "live_test", "missed", account_id=mine["account"]
    )
    await in_worker_thread(_pause)(mine["account"])
    async with _connect(daphne_server, mine["cookie"]) as ws:
        assert (await _next(ws, "hello"))["type"] == "hello"
        await ws.send(json.dumps({"type": "resume", "account": mine["account"], "after": last}))
        missed = []
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "resumed":
                break
            if message["type"] == "event":
                missed.append(message)
        assert message["latest"] == last + 6
        # Live again after the catch-up: the next event continues the sequence.
        await _buy_and_fill(mine["config"], price="60600")
        following = await _next(ws, "event")
    assert [e["seq"] for e in missed] == list(range(last + 1, last + 7))
    assert [e["kind"] for e in missed] == [
        "order", "fill", "order", "position", "alert", "account_status"
    ]  # fmt: skip
    assert missed[1]["data"]["price"] == "60500"
    assert missed[5]["data"]["status"] == "paused"
    assert {e["group"] for e in missed} == {group}
    assert following["seq"] == last + 7


def _pause(account_id: int) -> None:
    from apps.accounts.models import ExchangeAccount

    pause_account(actor=Actor.for_system(), account=ExchangeAccount.objects.get(pk=account_id))


async def test_a_resume_from_another_epoch_is_told_to_resync(daphne_server, symbols):
    mine = await _tenant("resync")
    async with _connect(daphne_server, mine["cookie"]) as ws:
        await _subscribed(ws, accounts=[mine["account"]])
        await ws.send(json.dumps({"type": "resume", "account": mine["account"], "after": 10_000}))
        message = await _next(ws, "resync")
    assert message["account"] == mine["account"]
    assert message["latest"] == 0
