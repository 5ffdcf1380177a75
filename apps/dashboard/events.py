"""Account and organization events on the live channel.

`publish_after_commit(kind, account_id=..., organization_id=..., data=...)` is what
services call (through `apps.trading.events` and the receivers in `receivers.py`): once
the transaction commits, the event is numbered and kept in each of its groups
(`sequence.append`) and sent to the consumers listening there. Publishing never breaks
the write that caused it: a failure is logged and counted, and a client that missed
the event gets it on resume or is told to resync.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core.redis import get_redis

from . import sequence

logger = logging.getLogger(__name__)

# The kinds a client may receive; anything else is a programming error.
KINDS = frozenset({"order", "fill", "position", "equity", "decision", "alert", "account_status"})
# Consumer handler of every live event (`live_event`).
MESSAGE_TYPE = "live.event"


def account_group(account_id: int) -> str:
    return f"live.account.{account_id}"


def organization_group(organization_id: int) -> str:
    return f"live.org.{organization_id}"


def groups_for(account_id: int | None, organization_id: int | None) -> list[str]:
    groups = []
    if account_id is not None:
        groups.append(account_group(account_id))
    if organization_id is not None:
        groups.append(organization_group(organization_id))
    return groups


class _SendLoop:
    """One event loop per process that sends live events for sync code. `async_to_sync`
    in a thread without a running loop (a worker's cycle threads, the streams' sync
    thread) starts a new loop, thread and channel-layer connection for every call: 9 ms
    a send against 0.5 ms here (docs/performance.md, "Profiles")."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loop = None
        self._pid = None

    def run(self, coroutine, timeout: float):
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # new, or forked
                self._loop, self._pid = asyncio.new_event_loop(), os.getpid()
                threading.Thread(
                    target=self._loop.run_forever, name="live-events", daemon=True
                ).start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)


_send_loop = _SendLoop()
SEND_TIMEOUT_SECONDS = 10.0


def _group_send(layer, group: str, message: dict) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # sync code, the usual case
        _send_loop.run(layer.group_send(group, message), SEND_TIMEOUT_SECONDS)
    else:  # inside an event loop: what async_to_sync says about that still holds
        async_to_sync(layer.group_send)(group, message)


def publish(
    kind: str, *, account_id: int | None, organization_id: int | None, data: dict, redis=None
) -> list[dict]:
    """Number, keep and send one event now; returns what each group got."""
    if kind not in KINDS:
        raise ValueError(f"unknown live event kind {kind!r}")
    redis = redis or get_redis()
    layer = get_channel_layer()
    sent = []
    base = {
        "kind": kind,
        "account": account_id,
        "organization": organization_id,
        "ts_ms": int(time.time() * 1000),
        "data": data,
    }
    for group in groups_for(account_id, organization_id):
        event = sequence.append(redis, group, {"group": group, **base})
        _group_send(layer, group, {"type": MESSAGE_TYPE, "event": event})
        sent.append(event)
    return sent


def _publish_quietly(kind: str, **kwargs) -> None:
    try:
        publish(kind, **kwargs)
    except Exception:  # a live page missing an update must never undo a trade
        logger.exception("live event not published", extra={"kind": kind})


def publish_after_commit(
    kind: str, *, account_id: int | None, organization_id: int | None, data: dict
) -> None:
    """Publish once the current transaction commits (at once outside one); nothing
    is published for a transaction that rolls back."""
    if kind not in KINDS:
        raise ValueError(f"unknown live event kind {kind!r}")
    transaction.on_commit(
        partial(
            _publish_quietly,
            kind,
            account_id=account_id,
            organization_id=organization_id,
            data=data,
        )
    )
