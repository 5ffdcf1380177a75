"""Starting an export (audited) and the background jobs of the large ones.

A CSV always streams. An XLSX or PDF export above `background_rows()` rows is built
by a Celery task into VAR_DIR/exports/; its state and progress live in a Redis hash
the page polls, readable only by the user who started it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from apps.audit.services import record_event
from apps.core.redis import get_redis

from . import exports

JOB_TTL_SECONDS = 24 * 3600
PROGRESS_EVERY = 200  # rows between progress writes
_KEY = "spotdesk:dashboard:export:{}"


class Status:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def background_rows() -> int:
    return int(getattr(settings, "DASHBOARD_EXPORT_BACKGROUND_ROWS", 5000))


def export_dir() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def job_key(job_id: str) -> str:
    return _KEY.format(job_id)


@dataclass(frozen=True)
class Started:
    background: bool
    rows: int
    job_id: str | None = None


def start(*, user, account, kind_name: str, fmt: str, redis=None) -> Started:
    """Validate, audit and decide how `user`'s export of `account` runs. `account`
    must already be scoped to the user (the views use the pages' selector)."""
    kind = exports.kind_named(kind_name)
    exports.check_format(fmt)
    count = exports.queryset(kind, account).count()
    background = fmt != "csv" and count > background_rows()
    job_id = uuid.uuid4().hex if background else None
    record_event(
        action="dashboard.export",
        actor=user,
        organization_id=account.organization_id,
        target=account,
        changes={"kind": kind.name, "format": fmt, "rows": count, "job": job_id or ""},
    )
    if background:
        redis = redis or get_redis()
        key = job_key(job_id)
        redis.hset(
            key,
            mapping={
                "user": user.pk,
                "account": account.pk,
                "kind": kind.name,
                "format": fmt,
                "status": Status.QUEUED,
                "done": 0,
                "total": count,
                "filename": exports.filename(kind, account, fmt),
            },
        )
        redis.expire(key, JOB_TTL_SECONDS)
        from .export_tasks import build_export  # the task module imports this one

        # Sent once the audit row and the data it reads are committed.
        transaction.on_commit(lambda: build_export.delay(job_id))
    return Started(background=background, rows=count, job_id=job_id)


def job_for(user, job_id: str, *, redis=None) -> dict | None:
    """The job's state, or None when it does not exist or is someone else's."""
    if not job_id.isalnum():
        return None
    state = (redis or get_redis()).hgetall(job_key(job_id))
    if not state or state.get("user") != str(user.pk):
        return None
    return state


def file_path(job_id: str, fmt: str) -> Path:
    return export_dir() / f"{job_id}.{fmt}"


def run(job_id: str, *, redis=None) -> str:
    """Build the job's file (the task's body). Idempotent: a finished job is left alone,
    a re-delivered one rebuilds its file from the start. Returns the final status."""
    from apps.accounts.models import ExchangeAccount

    redis = redis or get_redis()
    key = job_key(job_id)
    state = redis.hgetall(key)
    if not state or state.get("status") == Status.DONE:
        return state.get("status", "") if state else ""
    redis.hset(key, mapping={"status": Status.RUNNING, "done": 0})
    account = ExchangeAccount.objects.get(pk=int(state["account"]))
    kind = exports.kind_named(state["kind"])
    target = file_path(job_id, state["format"])
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")

    def progress(n: int) -> None:
        if n % PROGRESS_EVERY == 0:
            redis.hset(key, "done", n)

    try:
        with partial.open("wb") as out:
            exports.write_file(kind, account, state["format"], out, on_row=progress)
        partial.replace(target)  # the download never sees half a file
    except Exception:
        partial.unlink(missing_ok=True)
        redis.hset(key, "status", Status.FAILED)
        raise
    redis.hset(key, mapping={"status": Status.DONE, "done": state["total"]})
    return Status.DONE
