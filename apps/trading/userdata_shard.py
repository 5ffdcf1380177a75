"""User data for one account shard: the streams process's user-data half.

Every ACTIVE, PAUSED or HALTED account of the environment with an active key, whose
`crc32(account id) % shard_count` is this shard, is followed through the multiplexed
`UserDataSessions` (a paused or halted account still has fills and protective orders
to hear about). The set is re-read every `refresh_seconds`: new accounts and rotated
keys are subscribed, disabled accounts dropped. Each event goes to
`apps.trading.userdata.handle_event`; an account is reconciled from REST when it is
first followed and after every reconnect (events may have been lost meanwhile). A
heartbeat per shard lives in Redis, as the market-data half's does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from apps.accounts.models import AccountStatus, ApiKeyPair, KeyState
from apps.core.redis import get_redis
from apps.exchange.environments import endpoints_for
from apps.exchange.streams.user_data import UserDataSessions

logger = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "spotdesk:heartbeat:userdata:"
FOLLOWED_STATUSES = (AccountStatus.ACTIVE, AccountStatus.PAUSED, AccountStatus.HALTED)


def account_shard(account_id: int, shard_count: int) -> int:
    """A stable owner for an account (Python's hash() changes between processes)."""
    return zlib.crc32(str(account_id).encode()) % shard_count


def _credentials(account_id: int):
    from apps.accounts.credentials import load_credentials
    from apps.accounts.models import ExchangeAccount
    from apps.exchange.credentials import Credentials

    stored = load_credentials(ExchangeAccount.objects.get(pk=account_id))
    return Credentials.from_parts(
        api_key=stored.api_key, secret=stored.secret, key_type=stored.key_type
    )


def _handle(account_id: int, event: dict) -> None:
    from .userdata import handle_event

    close_old_connections()
    handle_event(account_id, event)


def _reconcile(account_id: int, trigger: str) -> None:
    from .locks import AccountBusy
    from .reconciliation import run_reconciliation

    close_old_connections()
    try:
        run_reconciliation(account_id, trigger=trigger)
    except AccountBusy:
        logger.info("account %s busy: the scheduled reconciliation will cover it", account_id)
    except Exception:
        logger.exception("reconciliation of account %s failed", account_id)
    finally:
        # This ran in a pool thread of its own: do not leave its connection open.
        connections.close_all()


class UserDataShard:
    def __init__(
        self,
        *,
        environment: str,
        shard: int = 0,
        shard_count: int = 1,
        refresh_seconds: float = 30.0,
        reconcile: bool = True,
    ):
        self.environment = environment
        self.shard, self.shard_count = shard, shard_count
        self.refresh_seconds = refresh_seconds
        self.reconcile = reconcile
        self.followed: dict[int, int] = {}  # account id -> its active key pair id
        self.sessions = UserDataSessions(
            endpoints_for(environment).ws_api, on_event=self._event, on_gap=self._gap
        )
        self._background: set[asyncio.Task] = set()

    def desired(self) -> dict[int, int]:
        """Account id -> active key pair id, for the accounts this shard follows."""
        close_old_connections()
        keys = ApiKeyPair.objects.filter(
            state=KeyState.ACTIVE,
            account__environment=self.environment,
            account__status__in=FOLLOWED_STATUSES,
        ).values_list("account_id", "pk")
        return {
            account_id: key_id
            for account_id, key_id in keys
            if account_shard(account_id, self.shard_count) == self.shard
        }

    async def _event(self, account_id: int, event: dict) -> None:
        await sync_to_async(_handle)(account_id, event)

    async def _gap(self, account_id: int) -> None:
        self._reconcile_later(account_id, "stream_gap")

    def _reconcile_later(self, account_id: int, trigger: str) -> None:
        if not self.reconcile:
            return
        # Off the event thread: one slow account must not hold up everyone's events.
        work = sync_to_async(_reconcile, thread_sensitive=False)(account_id, trigger)
        task = asyncio.create_task(work, name=f"reconcile-{account_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def refresh(self) -> None:
        """Follow exactly the accounts (and keys) the database wants now."""
        wanted = await sync_to_async(self.desired)()
        for account_id in sorted(set(self.followed) - set(wanted)):
            await self.sessions.remove(account_id)
            del self.followed[account_id]
        for account_id, key_id in sorted(wanted.items()):
            if self.followed.get(account_id) == key_id:
                continue
            if account_id in self.followed:  # the key was rotated: subscribe with the new one
                await self.sessions.remove(account_id)
            try:
                credentials = await sync_to_async(_credentials)(account_id)
            except Exception:
                logger.exception("no usable credentials for account %s", account_id)
                continue
            await self.sessions.add(account_id, credentials)
            self.followed[account_id] = key_id
            # Whatever happened before the subscription is found by reconciliation.
            self._reconcile_later(account_id, "start")
        self._heartbeat()

    def _heartbeat(self) -> None:
        beat = {
            "shard": f"{self.shard}/{self.shard_count}",
            "accounts": len(self.followed),
            "refused": len(self.sessions.refused),
            "reconnects": self.sessions.reconnects,
            "seen_at": time.time(),
        }
        key = f"{HEARTBEAT_PREFIX}{self.environment}:{self.shard}"
        get_redis().set(key, json.dumps(beat), ex=max(60, int(self.refresh_seconds * 3)))

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.refresh_seconds)
        finally:
            await self.sessions.stop()
            for task in list(self._background):
                with contextlib.suppress(Exception):
                    await task
            await sync_to_async(connections.close_all)()
