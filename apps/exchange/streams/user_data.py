"""User data for many accounts over the WebSocket API (the listenKey was retired on
2026-02-20): `userDataStream.subscribe.signature` multiplexes up to 1,000 accounts on
one connection, which python-binance cannot do (it opens one connection per client).

After every reconnect each account is subscribed again, and because events may have
been missed meanwhile, `on_gap(account_id)` asks for a REST reconciliation of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from apps.monitoring.metrics import STREAM_RECONNECTS

from ..credentials import Credentials
from ..signing import signed_ws_params

logger = logging.getLogger(__name__)

BINANCE_MAX_SUBSCRIPTIONS_PER_CONNECTION = 1000
EventHandler = Callable[[object, dict], Awaitable[None]]
GapHandler = Callable[[object], Awaitable[None]]


class UserDataError(Exception):
    """The WebSocket API refused a request (its code and message are kept)."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class _Session:
    index: int
    accounts: dict[object, Credentials] = field(default_factory=dict)
    subscriptions: dict[int, object] = field(default_factory=dict)  # id -> account
    socket: object | None = None
    pending: dict[str, asyncio.Future] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None


class UserDataSessions:
    def __init__(
        self,
        ws_api_url: str,
        *,
        on_event: EventHandler,
        on_gap: GapHandler,
        per_connection: int = BINANCE_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        clock: Callable[[], int] | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ):
        self.url = ws_api_url
        self._on_event = on_event
        self._on_gap = on_gap
        self.per_connection = min(per_connection, BINANCE_MAX_SUBSCRIPTIONS_PER_CONNECTION)
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._backoff = (backoff_initial, backoff_max)
        self._sessions: list[_Session] = []
        self._ids = itertools.count(1)
        self._stopping = False
        self.reconnects = 0
        self.refused: dict[object, UserDataError] = {}

    async def add(self, account_id, credentials: Credentials) -> None:
        """Follow this account's user data (on the first connection with room)."""
        session = next((s for s in self._sessions if len(s.accounts) < self.per_connection), None)
        if session is None:
            session = _Session(index=len(self._sessions))
            self._sessions.append(session)
            session.task = asyncio.create_task(
                self._run(session), name=f"user-data-{session.index}"
            )
        session.accounts[account_id] = credentials
        if session.ready.is_set():
            await self._subscribe_or_record(session, account_id)

    async def remove(self, account_id) -> None:
        for session in self._sessions:
            if session.accounts.pop(account_id, None) is None:
                continue
            for subscription_id, owner in list(session.subscriptions.items()):
                if owner == account_id and session.socket is not None:
                    await self._request(
                        session, "userDataStream.unsubscribe", subscriptionId=subscription_id
                    )
                    del session.subscriptions[subscription_id]

    async def wait_ready(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in self._sessions)), timeout)

    async def stop(self) -> None:
        self._stopping = True
        for session in self._sessions:
            if session.task:
                session.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await session.task

    # --- one connection ------------------------------------------------------------
    async def _run(self, session: _Session) -> None:
        delay, first = self._backoff[0], True
        while not self._stopping:
            if not first:
                await asyncio.sleep(random.uniform(0, delay))
                delay = min(delay * 2, self._backoff[1])
                self.reconnects += 1
                STREAM_RECONNECTS.inc()
            try:
                await self._session(session, reconnected=not first)
                delay = self._backoff[0]
            except (OSError, WebSocketException, TimeoutError) as error:
                logger.warning("user-data connection %s lost: %s", session.index, error)
            finally:
                first = False
                session.ready.clear()
                session.socket = None
                session.subscriptions.clear()
                for future in session.pending.values():
                    future.cancel()
                session.pending.clear()

    async def _session(self, session: _Session, *, reconnected: bool) -> None:
        async with connect(self.url, open_timeout=10, max_size=2**22) as socket:
            session.socket = socket
            reader = asyncio.create_task(self._read(session))
            try:
                for account_id in list(session.accounts):
                    await self._subscribe_or_record(session, account_id)
                session.ready.set()
                if reconnected:
                    # Events may have been lost while disconnected: reconcile from REST.
                    for account_id in list(session.accounts):
                        await self._on_gap(account_id)
                await reader
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    async def _read(self, session: _Session) -> None:
        async for raw in session.socket:
            message = json.loads(raw)
            if "subscriptionId" in message and "event" in message:
                account_id = session.subscriptions.get(message["subscriptionId"])
                if account_id is not None:
                    try:
                        await self._on_event(account_id, message["event"])
                    except Exception:
                        logger.exception("user-data event handler failed")
            elif (future := session.pending.pop(str(message.get("id")), None)) and not (
                future.done()
            ):
                future.set_result(message)

    async def _request(self, session: _Session, method: str, **params) -> dict:
        request_id = str(next(self._ids))
        future = asyncio.get_running_loop().create_future()
        session.pending[request_id] = future
        await session.socket.send(
            json.dumps({"id": request_id, "method": method, "params": params})
        )
        reply = await asyncio.wait_for(future, 10)
        if reply.get("status") != 200:
            error = reply.get("error", {})
            raise UserDataError(error.get("code", 0), error.get("msg", "request refused"))
        return reply.get("result") or {}

    async def _subscribe_or_record(self, session: _Session, account_id) -> None:
        # One refused key (revoked, wrong) must not take the other accounts down.
        try:
            await self._subscribe(session, account_id)
            self.refused.pop(account_id, None)
        except UserDataError as error:
            self.refused[account_id] = error
            logger.warning("user-data subscription refused for account %s: %s", account_id, error)

    async def _subscribe(self, session: _Session, account_id) -> None:
        credentials = session.accounts[account_id]
        params = signed_ws_params(credentials, self._clock())
        result = await self._request(session, "userDataStream.subscribe.signature", **params)
        session.subscriptions[int(result["subscriptionId"])] = account_id
