"""Backtest progress on the live channel: the group a run publishes to, the message a
client receives, and which pushed messages are already covered by the state a client
was sent when it subscribed.

A run (`apps.backtest.services.publish_progress`) sends `{"type": "backtest.progress",
"id", "status", "progress"}` to `backtest.<id>` after the row is written. These groups
keep no history (no sequence numbers, no replay): a subscriber joins the group first and
then reads the row, so no change falls between the two. A message published before
that read may still be waiting in the connection's queue and would take the page back
(`is_ahead` filters those out until the first newer one arrives).

A batch (`apps.backtest.services.advance_batch`) sends `{"type": "batch.progress", "id",
"status", "progress"}` to `backtest_batch.<id>` once each change of its status or
progress is committed, and is followed the same way. Unlike a run, a batch never goes
back (its runs only ever finish, and it is never retried), while several workers may
advance it at once and publish out of order: every batch message that is not ahead of
the last one sent is dropped, not only those queued before the subscription.
"""

from __future__ import annotations

from apps.accounts.roles import Action
from apps.backtest.models import Backtest, BacktestBatch, Status

GROUP_PREFIX = "backtest."
BATCH_GROUP_PREFIX = "backtest_batch."
# Finished states rank alike: a run ends one way, never both.
_STATUS_RANK = {Status.QUEUED: 0, Status.RUNNING: 1, Status.DONE: 2, Status.FAILED: 2}


def backtest_group(backtest_id: int) -> str:
    """The Channels group `publish_progress` sends a backtest's progress to."""
    return f"{GROUP_PREFIX}{backtest_id}"


def backtest_id_of(group: str) -> int | None:
    """The backtest whose group this is, or None for any other group."""
    return int(group.removeprefix(GROUP_PREFIX)) if group.startswith(GROUP_PREFIX) else None


def client_message(backtest_id: int, status: str, progress: int) -> dict:
    """What the client receives, both on subscribing and for every pushed change."""
    return {"type": "backtest", "id": backtest_id, "status": str(status), "progress": progress}


def batch_group(batch_id: int) -> str:
    """The Channels group `publish_batch_progress` sends a batch's progress to."""
    return f"{BATCH_GROUP_PREFIX}{batch_id}"


def batch_id_of(group: str) -> int | None:
    """The batch whose group this is, or None for any other group."""
    if not group.startswith(BATCH_GROUP_PREFIX):
        return None
    return int(group.removeprefix(BATCH_GROUP_PREFIX))


def is_state_group(group: str) -> bool:
    """True for the groups of runs and batches: not numbered, nothing to replay."""
    return backtest_id_of(group) is not None or batch_id_of(group) is not None


def batch_message(batch_id: int, status: str, progress: int) -> dict:
    """What the client receives about a batch, on subscribing and for every change."""
    return {"type": "batch", "id": batch_id, "status": str(status), "progress": progress}


def current_states(user, backtest_ids: list[int]) -> list[dict]:
    """The client messages for the rows as they are now, re-checked against the user's
    roles (a backtest deleted meanwhile is left out)."""
    return _states(Backtest, user, backtest_ids, client_message)


def current_batch_states(user, batch_ids: list[int]) -> list[dict]:
    """`current_states` for batches."""
    return _states(BacktestBatch, user, batch_ids, batch_message)


def _states(model, user, ids: list[int], message) -> list[dict]:
    rows = (
        model.objects.for_user(user, Action.VIEW)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "status", "progress")
    )
    return [message(pk, status, int(progress)) for pk, status, progress in rows]


def is_ahead(message: dict, sent: dict) -> bool:
    """True when `message` describes a later state of the run than `sent`: a later
    status, or the same status with more progress. A retried run restarting from 0 is
    the one case this holds back, until it passes the progress already shown."""
    rank, sent_rank = _STATUS_RANK.get(message["status"], 0), _STATUS_RANK.get(sent["status"], 0)
    if rank != sent_rank:
        return rank > sent_rank
    return message["status"] != sent["status"] or message["progress"] > sent["progress"]
