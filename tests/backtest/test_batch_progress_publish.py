"""A batch's own status and progress on the Channels layer: `advance_batch` publishes
each committed change to `backtest_batch.<id>` (the real Redis layer), and a layer that
cannot be reached never fails the batch."""

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.test import override_settings

from apps.backtest import services
from apps.backtest.models import Backtest, BacktestBatch, Status
from apps.dashboard.backtest_live import batch_group
from tests.accounts.factories import make_org
from tests.support.threads import in_worker_thread

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit runs on a real commit

MARKER = {"type": "test.marker"}
# A port nothing listens on: every publish fails to connect.
UNREACHABLE = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
    }
}


@in_worker_thread
def _sweep(*run_statuses) -> int:
    organization = make_org("Batch pushes")
    batch = BacktestBatch.objects.create(organization=organization, name="sweep", kind="sweep")
    for i, status in enumerate(run_statuses):
        Backtest.objects.create(
            organization=organization, name=f"run {i}", strategy="trend_following",
            strategy_version="1.0", symbols=["BTCUSDT"], interval="1h", batch=batch,
            start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC),
            status=status,
        )  # fmt: skip
    return batch.pk


async def _listening(batch_id: int) -> str:
    """A channel of the real layer, joined to the batch's group (received from this
    test's event loop only: the Redis layer receives on one loop)."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(batch_group(batch_id), channel)
    return channel


def _mark(channel) -> None:
    """A message of our own: whatever was published before it arrives before it."""
    async_to_sync(get_channel_layer().send)(channel, MARKER)


@in_worker_thread
def _advance(batch_id: int, channel: str, *, mark_inside: bool = False, roll_back: bool = False):
    """`advance_batch` as a worker calls it, then the marker: sent inside the transaction
    (before the commit) with `mark_inside`, else after it."""

    class Abandoned(Exception):
        pass

    try:
        with transaction.atomic():
            services.advance_batch(batch_id)
            if mark_inside:
                _mark(channel)
            if roll_back:
                raise Abandoned
    except Abandoned:
        pass
    if not mark_inside:
        _mark(channel)


@in_worker_thread
def _last_run_fails(batch_id: int) -> None:
    Backtest.objects.filter(batch_id=batch_id, status=Status.QUEUED).update(status=Status.FAILED)


@in_worker_thread
def _stored(batch_id: int) -> BacktestBatch:
    return BacktestBatch.objects.get(pk=batch_id)


async def _received(channel) -> dict:
    return await asyncio.wait_for(get_channel_layer().receive(channel), 10)


async def test_each_committed_change_of_the_batch_is_published_after_the_commit(redis_client):
    batch_id = await _sweep(Status.DONE, Status.QUEUED)
    channel = await _listening(batch_id)

    await _advance(batch_id, channel, mark_inside=True)  # nothing published before the commit
    assert await _received(channel) == MARKER
    assert await _received(channel) == {
        "type": "batch.progress", "id": batch_id, "status": "running", "progress": 50,
    }  # fmt: skip

    # Nothing changed (the same run finished, told twice): nothing published.
    await _advance(batch_id, channel)
    assert await _received(channel) == MARKER

    await _last_run_fails(batch_id)
    await _advance(batch_id, channel)
    assert await _received(channel) == {
        "type": "batch.progress", "id": batch_id, "status": "done", "progress": 100,
    }  # fmt: skip
    assert await _received(channel) == MARKER
    assert (await _stored(batch_id)).summary["failed"] == 1


async def test_a_rolled_back_advance_publishes_nothing(redis_client):
    batch_id = await _sweep(Status.DONE, Status.RUNNING)
    channel = await _listening(batch_id)
    await _advance(batch_id, channel, roll_back=True)
    assert await _received(channel) == MARKER
    batch = await _stored(batch_id)
    assert (batch.status, batch.progress) == (Status.QUEUED, 0)
    # The same advance, committed this time: its message is the first one of the batch.
    await _advance(batch_id, channel)
    assert await _received(channel) == {
        "type": "batch.progress", "id": batch_id, "status": "running", "progress": 50,
    }  # fmt: skip
    assert await _received(channel) == MARKER


def test_an_unreachable_layer_never_fails_the_batch(redis_client, caplog):
    batch_id = async_to_sync(_sweep)(Status.DONE, Status.DONE)
    with override_settings(CHANNEL_LAYERS=UNREACHABLE), caplog.at_level(logging.WARNING):
        advanced = services.advance_batch(batch_id)
    assert (advanced.status, advanced.progress) == (Status.DONE, 100)
    batch = BacktestBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.progress) == (Status.DONE, 100)
    assert len(batch.summary["ranking"]) == 2
    assert f"could not publish progress to backtest_batch.{batch_id}" in caplog.text
