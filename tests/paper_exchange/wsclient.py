"""Small helpers for WebSocket tests: URLs, a JSON reader with a deadline, signing."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time

import aiohttp


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1)


async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0):
    message = await asyncio.wait_for(ws.receive(), timeout)
    if message.type != aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"socket ended: {message.type.name}")
    return json.loads(message.data)


async def receive_until(ws, predicate, timeout: float = 5.0, limit: int = 10_000):
    """Messages up to and including the first that satisfies ``predicate``."""
    deadline = time.monotonic() + timeout
    seen = []
    while len(seen) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        seen.append(await receive_json(ws, left))
        if predicate(seen[-1]):
            return seen
    raise TimeoutError(f"no matching message in {timeout}s (saw {len(seen)})")


async def quiet(ws, seconds: float) -> list:
    """Everything that arrives within ``seconds`` (usually nothing)."""
    found = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            found.append(await receive_json(ws, left))
        except TimeoutError:
            break
    return found


def signed_params(key: dict, **params) -> dict:
    """WebSocket API params signed with an HMAC key, as the documentation signs them."""
    params = {"apiKey": key["apiKey"], "timestamp": int(time.time() * 1000), **params}
    payload = "&".join(f"{name}={params[name]}" for name in sorted(params))
    signature = hmac.new(key["secretKey"].encode(), payload.encode(), hashlib.sha256)
    return {**params, "signature": signature.hexdigest()}


@contextlib.asynccontextmanager
async def nudged(socket, admin, step_ms: int = 2_000):
    """Enter a python-binance socket; on exit keep the market moving until it closed.

    Its read loop only notices it should stop when a message arrives, and with the
    test clock standing still nothing would.
    """
    entered = await socket.__aenter__()
    try:
        yield entered
    finally:
        closing = asyncio.create_task(socket.__aexit__(None, None, None))
        while not closing.done():
            await asyncio.to_thread(admin.advance, step_ms)
            await asyncio.wait({closing}, timeout=0.3)
        await closing


@contextlib.asynccontextmanager
async def connect(url: str, **options):
    """A raw aiohttp WebSocket client connection (and its session)."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url, **options) as ws:
        yield ws
