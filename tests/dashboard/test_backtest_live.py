"""Backtest progress on the live channel: the real ASGI application (origin check,
session middleware, LiveConsumer) on the real Redis channel layer, fed by the real
`apps.backtest.services.publish_progress`."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client

from apps.backtest.models import Backtest, Status
from apps.backtest.services import publish_progress
from apps.dashboard.consumers import MAX_SUBSCRIPTIONS
from tests.accounts.factories import make_org, member, otp_login
from tests.dashboard.backtest_rows import make_backtest
from tests.support.threads import in_worker_thread

pytestmark = pytest.mark.django_db(transaction=True)

QUIET_S = 0.5  # how long "nothing arrives" is watched for


def _session_cookie(user) -> str:
    client = Client()
    otp_login(client, user)
    return client.cookies["sessionid"].value


@pytest.fixture
def desk(redis_client):
    ours, theirs = make_org("Live backtests"), make_org("Other desk")
    desk = {
        "ours": ours,
        "viewer": _session_cookie(member(ours, "viewer")),
        "outsider": _session_cookie(member(theirs, "admin")),
        "mine": make_backtest(ours, "Queued run"),
        "theirs": make_backtest(theirs, "Their run"),
    }
    connection.close()  # the consumer reads on its own connections
    return desk


@in_worker_thread
def _progress(backtest_id: int, status: str, progress: int, *, publish: bool = True) -> None:
    """Write the row as a run does, then publish it (after the write, as a run does)."""
    Backtest.objects.filter(pk=backtest_id).update(status=status, progress=progress)
    if publish:
        publish_progress(Backtest.objects.get(pk=backtest_id))


@in_worker_thread
def _publish_stale(backtest_id: int, status: str, progress: int) -> None:
    """A message that left before the row changed again (the row is not touched)."""
    backtest = Backtest.objects.get(pk=backtest_id)
    backtest.status, backtest.progress = status, progress
    publish_progress(backtest)


async def _connected(cookie: str) -> WebsocketCommunicator:
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/live/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, code = await communicator.connect(timeout=10)
    assert connected, code
    assert (await _next(communicator, "hello"))["type"] == "hello"
    return communicator


async def _next(communicator, kind: str, timeout: float = 10) -> dict:
    """The next message of type `kind`; heartbeats and tickers are passed over."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = max(deadline - loop.time(), 0.001)
        message = await communicator.receive_json_from(timeout=remaining)
        if message["type"] == kind:
            return message
        assert message["type"] in ("heartbeat", "ticker"), message


async def _no_backtest_message(communicator) -> None:
    """Nothing about any backtest arrives for QUIET_S (heartbeats may)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUIET_S
    while (remaining := deadline - loop.time()) > 0:
        if await communicator.receive_nothing(timeout=remaining):
            return
        message = await communicator.receive_json_from()
        assert message["type"] in ("heartbeat", "ticker"), message


async def _send(communicator, message: dict) -> None:
    await communicator.send_to(text_data=json.dumps(message))


async def test_a_viewer_gets_the_current_state_then_every_published_change(desk):
    backtest_id = desk["mine"].pk
    # A change made before anyone listened (its message went to no one).
    await _progress(backtest_id, Status.RUNNING, 25)
    communicator = await _connected(desk["viewer"])
    try:
        await _send(communicator, {"type": "subscribe", "backtests": [backtest_id]})
        initial = await _next(communicator, "backtest")
        assert initial == {"type": "backtest", "id": backtest_id, "status": "running",
                           "progress": 25}  # fmt: skip
        subscribed = await _next(communicator, "subscribed")
        assert subscribed["backtests"] == [backtest_id]

        await _progress(backtest_id, Status.RUNNING, 60)
        assert await _next(communicator, "backtest") == {
            "type": "backtest", "id": backtest_id, "status": "running", "progress": 60,
        }  # fmt: skip
        await _progress(backtest_id, Status.DONE, 100)
        assert await _next(communicator, "backtest") == {
            "type": "backtest", "id": backtest_id, "status": "done", "progress": 100,
        }  # fmt: skip

        # Unsubscribed: the group is left, later messages are not forwarded.
        await _send(communicator, {"type": "unsubscribe", "backtests": [backtest_id]})
        assert (await _next(communicator, "unsubscribed"))["groups"] == [f"backtest.{backtest_id}"]
        await _progress(backtest_id, Status.DONE, 100)
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()


async def test_a_message_older_than_the_state_sent_on_subscribing_is_not_forwarded(desk):
    backtest_id = desk["mine"].pk
    await _progress(backtest_id, Status.RUNNING, 50, publish=False)
    communicator = await _connected(desk["viewer"])
    try:
        await _send(communicator, {"type": "subscribe", "backtests": [backtest_id]})
        assert (await _next(communicator, "backtest"))["progress"] == 50
        await _next(communicator, "subscribed")
        # Sent before the row was read, delivered after: the page would go back.
        await _publish_stale(backtest_id, Status.RUNNING, 40)
        await _publish_stale(backtest_id, Status.RUNNING, 50)
        await _progress(backtest_id, Status.RUNNING, 70)
        assert (await _next(communicator, "backtest"))["progress"] == 70
    finally:
        await communicator.disconnect()


async def test_another_organizations_backtest_is_refused_and_nothing_of_it_arrives(desk):
    mine, theirs = desk["mine"].pk, desk["theirs"].pk
    communicator = await _connected(desk["viewer"])
    try:
        for ids in ([theirs], [mine, theirs]):
            await _send(communicator, {"type": "subscribe", "backtests": ids})
            refused = await _next(communicator, "error")
            assert refused == {
                "type": "error", "code": "permission_denied", "field": "backtests",
                "rule": f"not visible to you: [{theirs}]",
            }  # fmt: skip
        await _progress(theirs, Status.RUNNING, 30)
        await _progress(mine, Status.RUNNING, 30)  # refused together with theirs: not joined
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()


async def test_a_member_of_the_other_organization_is_refused_ours(desk):
    mine = desk["mine"].pk
    communicator = await _connected(desk["outsider"])
    try:
        await _send(communicator, {"type": "subscribe", "backtests": [mine]})
        refused = await _next(communicator, "error")
        assert (refused["code"], refused["field"]) == ("permission_denied", "backtests")
        await _progress(mine, Status.RUNNING, 10)
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize("field", ["backtests", "batches"])
@pytest.mark.parametrize("ids", ["7", 7, [True], ["7"], [1.5], None])
async def test_a_malformed_backtest_or_batch_list_is_refused_naming_the_field_and_rule(
    desk, ids, field
):
    communicator = await _connected(desk["viewer"])
    try:
        await _send(communicator, {"type": "subscribe", field: ids})
        assert await _next(communicator, "error") == {
            "type": "error", "code": "bad_request", "field": field,
            "rule": "must be a list of ids",
        }  # fmt: skip
    finally:
        await communicator.disconnect()


@in_worker_thread
def _many_backtests(organization, count: int) -> list[int]:
    return [make_backtest(organization, f"Sweep run {i}").pk for i in range(count)]


async def test_more_backtests_than_the_subscription_limit_are_refused(desk):
    ids = await _many_backtests(desk["ours"], MAX_SUBSCRIPTIONS + 1)
    communicator = await _connected(desk["viewer"])
    try:
        await _send(communicator, {"type": "subscribe", "backtests": ids})
        assert await _next(communicator, "error") == {
            "type": "error", "code": "bad_request", "field": "backtests",
            "rule": f"at most {MAX_SUBSCRIPTIONS} groups",
        }  # fmt: skip
        await _progress(ids[0], Status.RUNNING, 5)
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()
