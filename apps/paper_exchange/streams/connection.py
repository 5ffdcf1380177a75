"""One client WebSocket: an outgoing queue drained by its own writer task, so the
publisher never waits for a slow client, and the fault controls that act on it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

from aiohttp import WSCloseCode, WSMsgType, web

# A client that lets this many messages pile up is cut off (Binance drops slow readers).
MAX_BACKLOG = 50_000
_ids = itertools.count(1)
# Written as the last message: the socket is closed after what was queued before it.
CLOSE = object()


class Connection:
    def __init__(self, ws: web.WebSocketResponse, ip: str, account_id: int | None = None):
        self.id = next(_ids)
        self.ws = ws
        self.ip = ip
        self.account_id = account_id
        self.combined = False
        self.micro = False  # timeUnit=MICROSECOND: every time field in microseconds
        self.streams: dict[str, object] = {}
        self.stalled_until = 0.0  # monotonic seconds; messages are held back until then
        self._queue: asyncio.Queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write())

    def send(self, text: str) -> None:
        if self._queue.qsize() >= MAX_BACKLOG:
            self.drop()
            return
        self._queue.put_nowait(text)

    def close_soon(self) -> None:
        """Close once everything queued so far is sent (replies before a disconnect)."""
        self._queue.put_nowait(CLOSE)

    def stall(self, seconds: float) -> None:
        self.stalled_until = time.monotonic() + seconds

    def drop(self) -> None:
        """Close the socket abruptly (as a dropped connection looks to the client)."""
        self._queue.put_nowait(None)
        transport = self.ws._req.transport if self.ws._req is not None else None
        if transport is not None:
            transport.close()

    async def close(self, code: int = WSCloseCode.GOING_AWAY, message: bytes = b"") -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message)

    async def _write(self) -> None:
        queue, ws = self._queue, self.ws
        try:
            while True:
                text = await queue.get()
                if text is None:
                    return
                if text is CLOSE:
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION)
                    return
                wait = self.stalled_until - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await ws.send_str(text)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return

    async def finish(self, grace: float = 1.0) -> None:
        """Send what is still queued (for at most ``grace`` seconds), then stop."""
        self._queue.put_nowait(None)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._writer), grace)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


async def client_frames(connection: Connection, ping_seconds: float, pong_timeout: float):
    """The client's text frames. Meanwhile: a ping every ``ping_seconds``, an answer to
    every client ping, and a disconnect when no pong came for ``pong_timeout`` seconds
    (production: 20 s and a minute). Control frames are yielded as None, so callers can
    count them against the per-second message limit."""
    ws = connection.ws
    last_pong = time.monotonic()

    async def pinger() -> None:
        while True:
            await asyncio.sleep(ping_seconds)
            if time.monotonic() - last_pong > pong_timeout:
                await connection.close(code=WSCloseCode.GOING_AWAY, message=b"pong timeout")
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.ping()

    task = asyncio.create_task(pinger())
    try:
        async for message in ws:
            if message.type == WSMsgType.PING:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.pong(message.data)
                yield None
            elif message.type == WSMsgType.PONG:
                # Unsolicited pongs are allowed too; any pong shows the client is alive.
                last_pong = time.monotonic()
                yield None
            elif message.type == WSMsgType.TEXT:
                yield message.data
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
