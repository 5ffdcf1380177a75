"""1,000 WebSocket clients on the live channel, served by two daphne processes.

Run: .venv/bin/python bench/websocket_clients.py [--clients 1000] [--seconds 20]
     [--rate 20] [--servers 2]

Uses the load bench's database (`spotdesk_bench_load`, see bench/api_load.py: its 20
organizations of 10 accounts and their viewers) and Redis db 2 (`BENCH_REDIS_URL`).
Servers: `daphne --proxy-headers config.asgi:application` under
`config.settings.production`, the Channels layer on Redis.

Each client is a browser tab of one organization's viewer: its own session, verified
by the second factor (as the consumer requires), connected to /ws/live/ on one of the
servers (round-robin) and subscribed to one account of its organization, so every
account has clients/200 listeners. A publisher process (Django set up like the
servers) then sends fill events through the product's path,
`apps.dashboard.events.publish` (numbered in Redis, sent to the account's and the
organization's groups), at --rate events per second spread evenly over the accounts
(the default, 20/s over 200 accounts, is six events per account per minute: a 1m
strategy's decision plus its orders and fills; --rate 200 is a stress run).
Each client records, per event, receive time minus the `ts_ms` the publisher stamped
in it, and which sequence numbers it got: an event its account published that it did
not receive is lost.

Reference, same run, same clients and the same events: two bare aiohttp WebSocket
servers that subscribe to Redis pub/sub and forward each message to the sockets of its
account (what any Redis-backed live channel does at the least), fed by a publisher
that PUBLISHes the same JSON. Ratio: live channel p99 / bare p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _servers import PY, Daphnes, free_port, machine_summary, production_env
from report import LOWER_IS_BETTER, ratio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE = "spotdesk_bench_load"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
REFERENCE_CHANNEL = "bench-live-ref"
SCRIPT = str(Path(__file__).resolve())


def raise_fd_limit() -> int:
    """As many descriptors as the hard limit allows (inherited by the servers)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def setup_django() -> None:
    os.environ.update(production_env(DATABASE, REDIS_URL))
    os.environ["SPOTDESK_CHECKS_AT_START"] = "false"
    import django

    django.setup()


def sessions(count: int) -> list[dict]:
    """One verified session per client, for the viewers of the bench's organizations
    (created by bench/api_load.py), each with the account it will watch."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.models import ExchangeAccount, Membership
    from tests.accounts.factories import otp_login

    viewers = list(
        get_user_model().objects.filter(username__startswith="load-viewer-").order_by("username")
    )
    if not viewers:
        raise SystemExit("no bench data: run bench/api_load.py --seed-only first")
    accounts = {}
    for viewer in viewers:
        org = Membership.objects.get(user=viewer).organization_id
        accounts[viewer.pk] = list(
            ExchangeAccount.objects.filter(organization_id=org)
            .order_by("pk")
            .values_list("pk", "organization_id")
        )
    result = []
    for n in range(count):
        viewer = viewers[n % len(viewers)]
        mine = accounts[viewer.pk]
        account, org = mine[(n // len(viewers)) % len(mine)]
        client = Client()
        otp_login(client, viewer)
        result.append({"cookie": client.cookies["sessionid"].value, "account": account, "org": org})
    return result


class Listener:
    """One client: its latencies and the sequence numbers it received."""

    def __init__(self, account: int):
        self.account = account
        self.latencies: list[float] = []
        self.seqs: list[int] = []
        self.ready = asyncio.Event()

    def on_event(self, message: dict) -> None:
        self.latencies.append(time.time() * 1000 - message["ts_ms"])
        self.seqs.append(message["seq"])


async def live_client(session, url: str, cookie: str, listener: Listener, stop: asyncio.Event):
    headers = {"Cookie": f"sessionid={cookie}", "Origin": "http://127.0.0.1"}
    async with session.ws_connect(url, headers=headers, max_msg_size=0) as ws:
        hello = json.loads((await ws.receive()).data)
        assert hello["type"] == "hello", hello
        await ws.send_str(json.dumps({"type": "subscribe", "accounts": [listener.account]}))
        await _read(ws, listener, stop, until="subscribed")


async def reference_client(session, url: str, listener: Listener, stop: asyncio.Event):
    async with session.ws_connect(f"{url}?account={listener.account}") as ws:
        await _read(ws, listener, stop, until="subscribed")


async def _read(ws, listener: Listener, stop: asyncio.Event, until: str) -> None:
    import aiohttp

    while not stop.is_set():
        try:
            message = await asyncio.wait_for(ws.receive(), 0.5)
        except TimeoutError:
            continue
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket ended early: {message.type.name} {ws.close_code}")
        body = json.loads(message.data)
        kind = body.get("type")
        if kind == "event":
            listener.on_event(body)
        elif kind == until:
            listener.ready.set()


async def run_clients(urls, clients, seconds, rate, publisher_args, reference: bool) -> dict:
    """Connect every client, run the publisher, wait for the stragglers, summarise."""
    import aiohttp

    stop = asyncio.Event()
    listeners = [Listener(c["account"]) for c in clients]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        started = time.perf_counter()
        gate = asyncio.Semaphore(50)  # connect in waves, as pages load

        async def start(n: int, client: dict):
            async with gate:
                url = urls[n % len(urls)]
                if reference:
                    task = reference_client(session, url, listeners[n], stop)
                else:
                    task = live_client(
                        session, url + "/ws/live/", client["cookie"], listeners[n], stop
                    )
                tasks.append(asyncio.create_task(task))
                await asyncio.wait_for(listeners[n].ready.wait(), 60)

        await asyncio.gather(*(start(n, c) for n, c in enumerate(clients)))
        connect_s = time.perf_counter() - started
        publisher = await asyncio.create_subprocess_exec(
            PY, SCRIPT, *publisher_args, stdout=asyncio.subprocess.PIPE, cwd=str(ROOT)
        )
        out, _ = await publisher.communicate()
        published = json.loads(out.decode().strip().splitlines()[-1])
        await asyncio.sleep(3)  # the last deliveries
        stop.set()
        failed = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if r]
        for error in sorted({repr(e) for e in failed})[:5]:
            print(f"  client error: {error}")
    per_account = {int(k): v for k, v in published["per_account"].items()}
    latencies = sorted(x for listener in listeners for x in listener.latencies)
    lost = sum(per_account.get(li.account, 0) - len(set(li.seqs)) for li in listeners)
    duplicates = sum(len(li.seqs) - len(set(li.seqs)) for li in listeners)
    sent = {int(k): set(v) for k, v in published["seqs"].items()}
    for n, li in enumerate(listeners):
        missing = sorted(sent.get(li.account, set()) - set(li.seqs))
        if missing and lost:
            print(
                f"  client {n} (account {li.account}, server {n % len(urls)}): missing seq "
                f"{missing[:5]} of {sorted(sent[li.account])[:3]}..{max(sent[li.account])}"
            )
    return {
        "connect_s": connect_s,
        "published": published["events"],
        "publish_s": published["seconds"],
        "deliveries": len(latencies),
        "expected": sum(per_account.get(li.account, 0) for li in listeners),
        "lost": lost,
        "duplicates": duplicates,
        "client_errors": len(failed),
        "latencies": latencies,
    }


def publish_product(accounts: list[tuple[int, int]], seconds: float, rate: float) -> dict:
    """Publisher process: fill events through apps.dashboard.events.publish."""
    setup_django()
    from apps.dashboard.events import publish

    return _paced(
        accounts,
        seconds,
        rate,
        lambda n, account, org: publish(
            "fill", account_id=account, organization_id=org, data=_fill(n)
        )[0]["seq"],
    )


def publish_reference(accounts: list[tuple[int, int]], seconds: float, rate: float) -> dict:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    seq: dict[int, int] = {}

    def send(n, account, org):
        seq[account] = seq.get(account, 0) + 1
        event = {
            "type": "event", "seq": seq[account], "group": f"live.account.{account}",
            "kind": "fill", "account": account, "organization": org,
            "ts_ms": int(time.time() * 1000), "data": _fill(n),
        }  # fmt: skip
        client.publish(f"{REFERENCE_CHANNEL}:{account}", json.dumps(event))
        return seq[account]

    return _paced(accounts, seconds, rate, send)


def _fill(n: int) -> dict:
    return {"trade_id": n, "price": "60000.00", "quantity": "0.00166", "side": "BUY"}


def _paced(accounts, seconds: float, rate: float, send) -> dict:
    count = int(seconds * rate)
    per_account: dict[int, int] = {}
    seqs: dict[int, list[int]] = {}
    start = time.perf_counter()
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        account, org = accounts[n % len(accounts)]
        seqs.setdefault(account, []).append(send(n, account, org))
        per_account[account] = per_account.get(account, 0) + 1
    return {
        "events": count,
        "seconds": time.perf_counter() - start,
        "per_account": per_account,
        "seqs": seqs,
    }


def reference_server(port: int) -> None:
    """A bare Redis pub/sub -> WebSocket forwarder: no sessions, no sequence, no groups."""
    import redis.asyncio as aioredis
    from aiohttp import web

    sockets: dict[str, set] = {}

    async def handler(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        account = request.query["account"]
        sockets.setdefault(account, set()).add(ws)
        await ws.send_str('{"type": "subscribed"}')
        try:
            async for _message in ws:
                pass
        finally:
            sockets[account].discard(ws)
        return ws

    async def forward(app):
        client = aioredis.Redis.from_url(REDIS_URL)
        pubsub = client.pubsub()
        await pubsub.psubscribe(f"{REFERENCE_CHANNEL}:*")

        async def loop():
            async for message in pubsub.listen():
                if message["type"] != "pmessage":
                    continue
                account = message["channel"].decode().rsplit(":", 1)[1]
                data = message["data"].decode()
                for ws in list(sockets.get(account, ())):
                    await ws.send_str(data)

        task = asyncio.create_task(loop())
        yield
        task.cancel()

    app = web.Application()
    app.router.add_get("/", handler)
    app.cleanup_ctx.append(forward)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def percentiles(values: list[float]) -> dict[str, float]:
    def at(p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))]

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": values[-1]}


def show(name: str, result: dict) -> dict:
    figures = percentiles(result["latencies"]) if result["latencies"] else {}
    print(
        f"{name:>9}: {result['published']} events in {result['publish_s']:.1f} s -> "
        f"{result['deliveries']} of {result['expected']} deliveries, lost {result['lost']}, "
        f"duplicates {result['duplicates']}, client errors {result['client_errors']}; "
        f"latency p50 {figures.get('p50', 0):.1f} ms, p95 {figures.get('p95', 0):.1f} ms, "
        f"p99 {figures.get('p99', 0):.1f} ms, max {figures.get('max', 0):.0f} ms "
        f"(connect + subscribe of all clients {result['connect_s']:.1f} s)"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=20, help="events per second")
    parser.add_argument("--servers", type=int, default=2)
    # Internal modes: the publisher and reference server subprocesses.
    parser.add_argument("--publish", choices=["product", "reference"])
    parser.add_argument("--accounts", default="")
    parser.add_argument("--reference-server", type=int)
    options = parser.parse_args()

    if options.reference_server:
        reference_server(options.reference_server)
        return
    if options.publish:
        accounts = [tuple(map(int, pair.split(":"))) for pair in options.accounts.split(",")]
        publisher = publish_product if options.publish == "product" else publish_reference
        print(json.dumps(publisher(accounts, options.seconds, options.rate)))
        return

    limit = raise_fd_limit()
    setup_django()
    clients = sessions(options.clients)
    watched = sorted({(c["account"], c["org"]) for c in clients})
    pairs = ",".join(f"{a}:{o}" for a, o in watched)
    common = ["--accounts", pairs, "--seconds", str(options.seconds)]
    print(
        f"{options.clients} clients on {len(watched)} accounts, fd limit {limit}; "
        f"machine: {machine_summary()}"
    )
    env = production_env(DATABASE, REDIS_URL)
    with Daphnes(options.servers, env, name="bench-ws") as daphnes:
        urls = [url.replace("http://", "ws://") for url in daphnes.urls]
        live = asyncio.run(
            run_clients(urls, clients, options.seconds, options.rate,
                        ["--publish", "product", "--rate", str(options.rate), *common],
                        reference=False)
        )  # fmt: skip
    # The bare servers get the events at the rate the product's publisher achieved.
    achieved = live["published"] / live["publish_s"]
    ports = [free_port() for _ in range(options.servers)]
    refs = [
        subprocess.Popen([PY, SCRIPT, "--reference-server", str(port)], cwd=ROOT) for port in ports
    ]
    try:
        for port in ports:
            _wait_for_port(port)
        bare = asyncio.run(
            run_clients([f"ws://127.0.0.1:{p}/" for p in ports], clients, options.seconds,
                        options.rate,
                        ["--publish", "reference", "--rate", f"{achieved:.2f}", *common],
                        reference=True)
        )  # fmt: skip
    finally:
        for proc in refs:
            proc.terminate()
            proc.wait(timeout=15)
    print(f"machine after: {machine_summary()}")
    product = show("live", live)
    reference = show("bare", bare)
    if product and reference:
        ratio(
            "websocket.live_p99_vs_bare_p99",
            product["p99"] / reference["p99"],
            better=LOWER_IS_BETTER,
        )
        ratio(
            "websocket.live_p50_vs_bare_p50",
            product["p50"] / reference["p50"],
            better=LOWER_IS_BETTER,
        )
    print(f"product publisher: {achieved:.0f} events/s achieved of {options.rate:.0f} asked")
    print(f"lost events: {live['lost']} (goal 0: {'met' if live['lost'] == 0 else 'missed'})")


def _wait_for_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {port}")


if __name__ == "__main__":
    main()
