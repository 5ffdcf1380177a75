"""A backtest batch's own status and progress on the live channel: the real ASGI
application (origin check, session middleware, LiveConsumer) on the real Redis channel
layer, fed by the real `apps.backtest.services.advance_batch`."""

import pytest
from django.db import connection

from apps.backtest import services
from apps.backtest.models import Backtest, BacktestBatch, Status
from tests.accounts.factories import make_org, member
from tests.dashboard.backtest_rows import make_backtest
from tests.dashboard.test_backtest_live import (
    _connected,
    _next,
    _no_backtest_message,
    _send,
    _session_cookie,
)
from tests.support.threads import in_worker_thread

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 4  # each finished run moves the batch on by 25%


def _sweep(organization, name: str) -> BacktestBatch:
    batch = BacktestBatch.objects.create(organization=organization, name=name, kind="sweep")
    for i in range(RUNS):
        make_backtest(organization, f"{name} run {i}", batch=batch)
    return batch


@pytest.fixture
def desk(redis_client):
    ours, theirs = make_org("Live batches"), make_org("Other batches")
    desk = {
        "viewer": _session_cookie(member(ours, "viewer")),
        "outsider": _session_cookie(member(theirs, "admin")),
        "mine": _sweep(ours, "Our sweep"),
        "theirs": _sweep(theirs, "Their sweep"),
        "run": make_backtest(ours, "A single run"),
    }
    connection.close()  # the consumer reads on its own connections
    return desk


@in_worker_thread
def _runs_finish(batch_id: int, count: int) -> None:
    """`count` more runs of the batch finish, then the batch advances, as a worker does
    after each run (`advance_batch` publishes the change once committed)."""
    queued = Backtest.objects.filter(batch_id=batch_id, status=Status.QUEUED).order_by("pk")
    Backtest.objects.filter(pk__in=list(queued.values_list("pk", flat=True)[:count])).update(
        status=Status.DONE, progress=100
    )
    services.advance_batch(batch_id)


@in_worker_thread
def _stored_as(batch_id: int, status: str, progress: int) -> None:
    """The row changed and nothing was published (yet)."""
    BacktestBatch.objects.filter(pk=batch_id).update(status=status, progress=progress)


@in_worker_thread
def _publish(batch_id: int, status: str, progress: int) -> None:
    """A message as `advance_batch` sends it, the row left alone: one that left before
    the row changed again, or one that lost a race with another worker's."""
    services.publish_batch_progress(batch_id, status, progress)


def _batch(batch_id: int, status: str, progress: int) -> dict:
    return {"type": "batch", "id": batch_id, "status": status, "progress": progress}


async def test_a_viewer_gets_the_batchs_state_then_every_change_until_unsubscribed(desk):
    batch_id = desk["mine"].pk
    await _runs_finish(batch_id, 1)  # published to no one: nobody listened yet
    communicator = await _connected(desk["viewer"])
    try:
        await _send(communicator, {"type": "subscribe", "batches": [batch_id]})
        assert await _next(communicator, "batch") == _batch(batch_id, "running", 25)
        subscribed = await _next(communicator, "subscribed")
        assert (subscribed["batches"], subscribed["backtests"]) == ([batch_id], [])

        await _runs_finish(batch_id, 1)
        assert await _next(communicator, "batch") == _batch(batch_id, "running", 50)
        await _runs_finish(batch_id, 2)
        assert await _next(communicator, "batch") == _batch(batch_id, "done", 100)

        await _send(communicator, {"type": "unsubscribe", "batches": [batch_id]})
        unsubscribed = await _next(communicator, "unsubscribed")
        assert unsubscribed["groups"] == [f"backtest_batch.{batch_id}"]
        await _publish(batch_id, "done", 100)
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()


async def test_a_batch_and_a_run_are_followed_together(desk):
    batch_id, run_id = desk["mine"].pk, desk["run"].pk
    communicator = await _connected(desk["viewer"])
    try:
        await _send(communicator, {"type": "subscribe", "backtests": [run_id],
                                   "batches": [batch_id]})  # fmt: skip
        assert (await _next(communicator, "backtest"))["id"] == run_id
        assert await _next(communicator, "batch") == _batch(batch_id, "queued", 0)
        subscribed = await _next(communicator, "subscribed")
        assert (subscribed["backtests"], subscribed["batches"]) == ([run_id], [batch_id])
        await _runs_finish(batch_id, 1)
        assert await _next(communicator, "batch") == _batch(batch_id, "running", 25)
    finally:
        await communicator.disconnect()


async def test_messages_behind_the_state_sent_are_not_forwarded(desk):
    batch_id = desk["mine"].pk
    await _stored_as(batch_id, Status.RUNNING, 50)
    communicator = await _connected(desk["viewer"])
    try:
        await _send(communicator, {"type": "subscribe", "batches": [batch_id]})
        assert await _next(communicator, "batch") == _batch(batch_id, "running", 50)
        await _next(communicator, "subscribed")
        # Sent before the row was read, delivered after: the page would go back.
        await _publish(batch_id, "queued", 0)
        await _publish(batch_id, "running", 25)
        await _publish(batch_id, "running", 50)
        await _publish(batch_id, "running", 75)
        assert await _next(communicator, "batch") == _batch(batch_id, "running", 75)
        # Two workers advanced the batch and published out of order: a batch never goes
        # back, so the older one is dropped even after a newer one was forwarded.
        await _publish(batch_id, "done", 100)
        await _publish(batch_id, "running", 75)
        assert await _next(communicator, "batch") == _batch(batch_id, "done", 100)
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()


async def test_another_organizations_batch_is_refused_and_nothing_of_it_arrives(desk):
    mine, theirs = desk["mine"].pk, desk["theirs"].pk
    communicator = await _connected(desk["viewer"])
    try:
        for ids in ([theirs], [mine, theirs]):
            await _send(communicator, {"type": "subscribe", "batches": ids})
            assert await _next(communicator, "error") == {
                "type": "error", "code": "permission_denied", "field": "batches",
                "rule": f"not visible to you: [{theirs}]",
            }  # fmt: skip
        await _runs_finish(theirs, 1)
        await _runs_finish(mine, 1)  # refused together with theirs: not joined
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()


async def test_a_member_of_the_other_organization_is_refused_ours(desk):
    mine = desk["mine"].pk
    communicator = await _connected(desk["outsider"])
    try:
        await _send(communicator, {"type": "subscribe", "batches": [mine]})
        refused = await _next(communicator, "error")
        assert (refused["code"], refused["field"]) == ("permission_denied", "batches")
        await _runs_finish(mine, 1)
        await _no_backtest_message(communicator)
    finally:
        await communicator.disconnect()
