"""Market stream fan-out: messages per second delivered to 100 subscribed connections.

Starts the paper exchange (test clock, generated BTCUSDT/ETHUSDT/BNBUSDT) in a
subprocess; 100 aiohttp WebSocket clients in this process each subscribe to the three
``@trade`` streams. The bench moves the market clock ten minutes at a time through the
admin endpoint, so every step publishes a batch of real trade payloads through the stream
hub, and counts what the clients receive (about two batches in flight at most, so no
queue grows without bound).

Reference, in the same run: the same clients on a bare aiohttp WebSocket server that
broadcasts batches of the same size and payload size to every connection (``send_str``
to each socket, nothing else). The ratio paper/reference says what the hub costs.

    .venv/bin/python bench/paper_exchange_streams.py [--connections 100] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
from report import ratio

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a loopback bench server
STREAMS = "btcusdt@trade/ethusdt@trade/bnbusdt@trade"
STEP_MS = 600_000
GOAL = 50_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def reference_server(port: int, payload: str) -> None:
    """A bare aiohttp broadcast: ``POST /broadcast?n=N`` sends N messages to everyone."""
    from aiohttp import web

    sockets: set = set()

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({})

    async def stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.add(ws)
        async for _ in ws:
            pass
        sockets.discard(ws)
        return ws

    async def broadcast(count: int) -> None:
        for _ in range(count):
            for ws in list(sockets):
                await ws.send_str(payload)

    async def trigger(request: web.Request) -> web.Response:
        request.app["tasks"].add(asyncio.create_task(broadcast(int(request.query["n"]))))
        return web.json_response({})

    app = web.Application()
    app["tasks"] = set()
    app.add_routes(
        [web.get("/ping", ping), web.get("/ws", stream), web.post("/broadcast", trigger)]
    )
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class Clients:
    """N connections counting text messages (no parsing: the clients must stay cheap)."""

    def __init__(self, url: str, count: int):
        self.url, self.count = url, count
        self.received = 0
        self.last_at = 0.0  # perf_counter of the latest message
        self.sample = ""

    async def __aenter__(self):
        self.session = aiohttp.ClientSession()
        self.sockets = [await self.session.ws_connect(self.url) for _ in range(self.count)]
        self.readers = [asyncio.create_task(self._read(ws)) for ws in self.sockets]
        return self

    async def _read(self, ws) -> None:
        async for message in ws:
            self.received += 1
            self.last_at = time.perf_counter()
            if not self.sample:
                self.sample = message.data

    async def __aexit__(self, *exc):
        for reader in self.readers:
            reader.cancel()
        for ws in self.sockets:
            await ws.close()
        await self.session.close()

    async def settle(self, quiet: float = 0.3) -> int:
        """Wait until nothing arrived for ``quiet`` seconds; the total received."""
        last = -1
        while last != self.received:
            last = self.received
            await asyncio.sleep(quiet)
        return self.received

    async def first_after(self, count: int, timeout: float = 15.0) -> None:
        """Wait for the first message beyond ``count`` (a busy machine may take longer
        than the quiet window to deliver the first one of a batch)."""
        deadline = time.perf_counter() + timeout
        while self.received <= count and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)


async def post(session: aiohttp.ClientSession, url: str, body: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with session.post(url, json=body or {}, headers=headers) as response:
        response.raise_for_status()
        return await response.json()


async def measure(clients: Clients, step, seconds: float) -> tuple[float, int]:
    """Messages/s over ``seconds`` of steps, one batch in flight; also the batch size."""
    before = await clients.settle()
    await step()
    await clients.first_after(before)
    batch = await clients.settle() - before
    if batch <= 0:
        raise RuntimeError("a step delivered nothing")
    start_count, started = clients.received, time.perf_counter()
    issued = 0
    while time.perf_counter() - started < seconds:
        # Next step once the previous batches are mostly delivered (batches vary by a
        # few percent; a stalled delivery must not hang the bench).
        waited = time.perf_counter()
        while clients.received - start_count < (issued - 1) * batch * 0.9:
            if time.perf_counter() - waited > 5:
                raise RuntimeError("delivery stalled")
            await asyncio.sleep(0.001)
        await step()
        issued += 1
    await clients.settle(0.2)
    elapsed = clients.last_at - started
    return (clients.received - start_count) / elapsed, batch


async def run_paper(url: str, connections: int, seconds: float) -> tuple[float, int, str]:
    ws = url.replace("http://", "ws://") + f"/ws/{STREAMS}"
    async with aiohttp.ClientSession() as session, Clients(ws, connections) as clients:

        async def step() -> None:
            await post(session, f"{url}/admin/clock/advance", {"ms": STEP_MS})

        rate, batch = await measure(clients, step, seconds)
        return rate, batch, clients.sample


async def run_reference(url: str, connections: int, seconds: float, per_connection: int) -> float:
    async with aiohttp.ClientSession() as session, Clients(f"{url}/ws", connections) as clients:

        async def step() -> None:
            await post(session, f"{url}/broadcast?n={per_connection}")

        rate, _ = await measure(clients, step, seconds)
        return rate


def start_paper(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apps.paper_exchange",
            "--port",
            str(port),
            "--no-data",
            "--symbols",
            "BTCUSDT,ETHUSDT,BNBUSDT",
            "--history-days",
            "1",
            "--test-clock",
            "--admin-token",
            ADMIN_TOKEN,
            "--weight-limit",
            "100000000",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    paper = start_paper(port)
    reference = None
    try:
        wait_for(f"{url}/api/v3/ping")
        papers, references, ratios = [], [], []
        for _ in range(args.rounds):
            rate, batch, sample = asyncio.run(run_paper(url, args.connections, args.seconds))
            papers.append(rate)
            if reference is None:
                # The reference sends payloads of the same size, as many per step.
                payload = json.dumps(json.loads(sample), separators=(",", ":"))
                reference_port = free_port()
                reference = multiprocessing.Process(
                    target=reference_server, args=(reference_port, payload), daemon=True
                )
                reference.start()
                wait_for(f"http://127.0.0.1:{reference_port}/ping")
            per_connection = max(1, batch // args.connections)
            references.append(
                asyncio.run(
                    run_reference(
                        f"http://127.0.0.1:{reference_port}",
                        args.connections,
                        args.seconds,
                        per_connection,
                    )
                )
            )
            ratios.append(papers[-1] / references[-1])
    finally:
        paper.terminate()
        paper.wait(30)
        if reference is not None:
            reference.terminate()
            reference.join(30)
    rate, base = statistics.median(papers), statistics.median(references)
    print(f"paper exchange: {rate:,.0f} messages/s to {args.connections} connections (median)")
    print(f"reference     : {base:,.0f} messages/s, bare aiohttp broadcast, same payload size")
    print(f"ratio         : {statistics.median(ratios):.2f} of the bare broadcast (median)")
    print(f"rounds        : paper {[round(value) for value in papers]}")
    print(f"                bare  {[round(value) for value in references]}")
    print(f"batch         : {batch:,} messages per 10-minute step ({len(sample)} bytes each)")
    print(f"goal          : {GOAL:,} messages/s -> {'met' if rate >= GOAL else 'NOT met'}")
    ratio("paper_exchange.stream_messages_vs_bare_broadcast", statistics.median(ratios))


if __name__ == "__main__":
    main()
