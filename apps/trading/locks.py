"""Per-account mutual exclusion and per-(account, trigger) idempotency, in Redis.

`AccountLock`: no two cycles of one account run at once, on any worker. The lock
expires by itself if its holder dies (TTL), is renewed in the background while held,
and is released only by its holder (a token compared in Lua), so a cycle that
outlived its TTL cannot release a successor's lock. `held` says whether it is still
ours: check it before sending an order.

`TriggerGuard`: a trigger (one closed candle for one strategy fingerprint) is handled
at most once per account, and refused when older than the maximum age, so a task
redelivered after a crash does not trade late.
"""

from __future__ import annotations

import enum
import time

from apps.core.errors import ConflictError
from apps.core.leases import RELEASE_IF_VALUE, RedisLease

from . import conf


class AccountBusy(ConflictError):
    code = "account_busy"


class AccountLock(RedisLease):
    def __init__(self, redis_client, account_id: int, *, ttl: float | None = None,
                 wait: float | None = None):  # fmt: skip
        super().__init__(
            redis_client,
            f"trading:lock:account:{account_id}",
            ttl=ttl if ttl is not None else conf.account_lock_ttl_seconds(),
            wait=wait if wait is not None else conf.account_lock_wait_seconds(),
        )

    def __enter__(self) -> AccountLock:
        if not self.acquire():
            raise AccountBusy(f"another cycle holds {self.key}", key=self.key)
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Claim(enum.StrEnum):
    CLAIMED = "claimed"  # go ahead, then call complete() or abandon()
    # Claimed before by a worker that neither completed nor abandoned it (it died):
    # go ahead, once sure that worker's work did not get done.
    RETAKEN = "retaken"
    DONE = "done"  # handled before: do nothing
    IN_PROGRESS = "in_progress"  # another worker is handling it right now
    STALE = "stale"  # older than the maximum trigger age: do nothing


class TriggerGuard:
    def __init__(self, redis_client, *, max_age: float | None = None):
        self.redis = redis_client
        self.max_age_ms = int(
            (max_age if max_age is not None else conf.max_trigger_age_seconds()) * 1000
        )
        self.running_ms = conf.account_lock_ttl_seconds() * 1000
        self.memory_s = conf.trigger_memory_seconds()

    @staticmethod
    def key(account_id: int, trigger: str) -> str:
        return f"trading:trigger:{account_id}:{trigger}"

    def claim(
        self, account_id: int, trigger: str, trigger_ms: int, *, now_ms: int | None = None
    ) -> Claim:
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        key = self.key(account_id, trigger)
        state = self.redis.get(key)
        if state == "done":
            return Claim.DONE
        if now_ms - trigger_ms > self.max_age_ms:
            return Claim.STALE
        # "running" expires with the lock: a claim whose worker died can be retaken
        # by the redelivered task, if the trigger is still young enough.
        if self.redis.set(key, "running", nx=True, px=self.running_ms):
            first = self.redis.set(f"{key}:started", "1", nx=True, ex=self.memory_s)
            return Claim.CLAIMED if first else Claim.RETAKEN
        return Claim.DONE if self.redis.get(key) == "done" else Claim.IN_PROGRESS

    def complete(self, account_id: int, trigger: str) -> None:
        self.redis.set(self.key(account_id, trigger), "done", ex=self.memory_s)

    def abandon(self, account_id: int, trigger: str) -> None:
        """The work failed before any effect: let a retry claim it again."""
        key = self.key(account_id, trigger)
        if self.redis.eval(RELEASE_IF_VALUE, 1, key, "running"):
            self.redis.delete(f"{key}:started")
