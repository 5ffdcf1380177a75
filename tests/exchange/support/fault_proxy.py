"""A loopback HTTP proxy between the gateway and the paper exchange that injects faults.

Mocking only at the network boundary: requests really reach the paper exchange (or,
for "lost" faults, deliberately do not), and the gateway sees exactly the answers
Binance gives in those situations. Faults are drawn from a seeded generator so a
failing run can be replayed.

Fault kinds for POST /api/v3/order (`unknown_order_rate`):
- "accepted_503": forwarded and accepted, answered 503 "Unknown error ..." (-1007 style);
- "accepted_500": forwarded and accepted, answered 500 -1001;
- "accepted_timeout": forwarded and accepted, the answer delayed past the client timeout;
- "lost_503" (`lost_order_rate`): never forwarded, answered 503 -1007.
Other knobs: `read_error_rate` (GETs answered 502 before reaching upstream),
`status_burst(status, count, retry_after)` (429/418 for the next `count` requests).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}
UNKNOWN_MSG = (
    "Timeout waiting for response from backend server. "
    "Send status unknown; execution status unknown."
)


@dataclass
class FaultPlan:
    seed: int = 1
    unknown_order_rate: float = 0.0
    lost_order_rate: float = 0.0
    read_error_rate: float = 0.0
    timeout_delay: float = 1.5
    include_timeouts: bool = True
    burst_status: int | None = None
    burst_remaining: int = 0
    burst_retry_after: int = 1
    injected: Counter = field(default_factory=Counter)
    forwarded_orders: int = 0
    requests_seen: int = 0
    # (monotonic arrival time, injected fault or None) of every /api request
    arrivals: list = field(default_factory=list)
    # The next N signed requests are refused with -1021 (never forwarded).
    timestamp_rejections: int = 0
    # The next N order requests are answered -2010 "Duplicate order sent." (not forwarded).
    duplicate_rejections: int = 0
    # POST paths that get the order faults (order lists may be added).
    order_paths: tuple = ("/api/v3/order",)
    # Answer /sapi like the Spot testnet, which has none.
    block_sapi: bool = False
    # The next N /api/v3/time requests are answered 502 (the time endpoint down).
    time_failures: int = 0

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.lock = threading.Lock()

    def status_burst(self, status: int, count: int, retry_after: int) -> None:
        with self.lock:
            self.burst_status, self.burst_remaining = status, count
            self.burst_retry_after = retry_after

    def draw(self, method: str, path: str) -> str | None:
        with self.lock:
            self.requests_seen += 1
            if self.burst_remaining > 0 and path.startswith("/api/"):
                self.burst_remaining -= 1
                kind = f"status_{self.burst_status}"
            elif method == "POST" and path in self.order_paths:
                roll = self.rng.random()
                if roll < self.lost_order_rate:
                    kind = "lost_503"
                elif roll < self.lost_order_rate + self.unknown_order_rate:
                    kinds = ["accepted_503", "accepted_500"]
                    if self.include_timeouts:
                        kinds.append("accepted_timeout")
                    kind = self.rng.choice(kinds)
                else:
                    kind = None
            elif path == "/api/v3/time" and self.time_failures > 0:
                self.time_failures -= 1
                kind = "time_502"
            elif method == "GET" and path.startswith("/api/v3/") and path != "/api/v3/time":
                kind = "read_502" if self.rng.random() < self.read_error_rate else None
            else:
                kind = None
            if kind:
                self.injected[kind] += 1
            if path.startswith("/api/"):
                self.arrivals.append((time.monotonic(), kind))
            return kind


class FaultProxy:
    def __init__(self, upstream: str, plan: FaultPlan | None = None):
        self.upstream = upstream.rstrip("/")
        self.plan = plan or FaultPlan()
        self.port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def stop(self) -> None:
        async def shutdown():
            await self._session.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200), auto_decompress=True
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        url = self.upstream + request.path_qs
        async with self._session.request(request.method, url, headers=headers, data=body) as up:
            payload = await up.read()
            out_headers = {k: v for k, v in up.headers.items() if k.lower() not in _HOP_HEADERS}
            return web.Response(status=up.status, body=payload, headers=out_headers)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if self.plan.block_sapi and request.path.startswith("/sapi/"):
            self.plan.injected["sapi_blocked"] += 1
            return web.json_response({"code": -1020, "msg": "Not supported."}, status=404)
        signed = "signature=" in request.query_string or b"signature=" in body
        if signed and self.plan.timestamp_rejections > 0:
            with self.plan.lock:
                self.plan.timestamp_rejections -= 1
                self.plan.injected["timestamp_1021"] += 1
            return web.json_response(
                {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
                status=400,
            )
        if (
            request.method == "POST"
            and request.path in self.plan.order_paths
            and self.plan.duplicate_rejections > 0
        ):
            with self.plan.lock:
                self.plan.duplicate_rejections -= 1
                self.plan.injected["duplicate_2010"] += 1
            return web.json_response({"code": -2010, "msg": "Duplicate order sent."}, status=400)
        kind = self.plan.draw(request.method, request.path)
        if kind is None:
            return await self._forward(request, body)
        if kind.startswith("status_"):
            status = int(kind.removeprefix("status_"))
            code = -1003
            return web.json_response(
                {
                    "code": code,
                    "msg": "Too many requests; IP banned."
                    if status == 418
                    else "Too much request weight used.",
                },
                status=status,
                headers={"Retry-After": str(self.plan.burst_retry_after)},
            )
        if kind in ("read_502", "time_502"):
            return web.Response(status=502, text="<html>Bad Gateway</html>")
        if kind == "lost_503":
            return web.json_response({"code": -1007, "msg": UNKNOWN_MSG}, status=503)
        # The order reaches the exchange; only its answer is lost.
        await self._forward(request, body)
        with self.plan.lock:
            self.plan.forwarded_orders += 1
        if kind == "accepted_503":
            return web.json_response({"code": -1007, "msg": UNKNOWN_MSG}, status=503)
        if kind == "accepted_500":
            return web.json_response(
                {"code": -1001, "msg": "Internal error; unable to process your request."},
                status=500,
            )
        await asyncio.sleep(self.plan.timeout_delay)
        return web.json_response({"code": -1007, "msg": UNKNOWN_MSG}, status=503)
