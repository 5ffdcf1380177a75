"""A loopback WebSocket proxy in front of the paper exchange's streams that can drop
every connection or stall them (open, but silent): the network faults a stream
supervisor must survive, produced at the network boundary."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import aiohttp
from aiohttp import web


class StreamFaultProxy:
    def __init__(self, upstream_ws_url: str):
        self.upstream = upstream_ws_url.rstrip("/")
        self.connections = 0
        self._clients: set[web.WebSocketResponse] = set()
        self._stalled: set[int] = set()
        self.refusing = False
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.url = ""

    # --- control (from the test's thread) -----------------------------------------
    def start(self) -> StreamFaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def drop_all(self) -> None:
        asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop).result(5)

    def refuse(self, on: bool = True) -> None:
        """While on, new connections are refused (an exchange or network outage)."""
        self.refusing = on

    def stall(self) -> None:
        """The connections open now stay open but forward nothing; new ones are healthy."""
        self._stalled.update(id(client) for client in list(self._clients))

    # --- the proxy ----------------------------------------------------------------
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()

    async def _drop_all(self) -> None:
        for client in list(self._clients):
            await client.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503)
        client = web.WebSocketResponse()
        await client.prepare(request)
        self.connections += 1
        self._clients.add(client)
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{self.upstream}{request.path_qs}") as upstream,
        ):

            async def downstream():
                async for message in upstream:
                    if id(client) in self._stalled:
                        continue
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await client.send_str(message.data)

            async def upstream_pump():
                async for message in client:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await upstream.send_str(message.data)

            tasks = [asyncio.create_task(downstream()), asyncio.create_task(upstream_pump())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._clients.discard(client)
        await client.close()
        return client
