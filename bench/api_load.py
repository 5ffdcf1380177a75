"""The REST API and the admin over a million orders, served by two daphne processes.

Run: .venv/bin/python bench/api_load.py [--rate 200] [--seconds 60] [--warmup 8]
     [--servers 2] [--admin-rounds 5] [--sweep 25,50,100] [--sweep-seconds 20]

Database `spotdesk_bench_load` (created, migrated and seeded on the first run, reused
afterwards; see bench/_seed_load.py for the data set) and Redis db 2 (`BENCH_REDIS_URL`
to change). The servers are `daphne --proxy-headers config.asgi:application` under
`config.settings.production` (DEBUG off, PostgreSQL pool, throttling on).

API: an open-loop generator. Request i is due at start + i / rate whatever the earlier
requests are doing, and its latency runs from that due time to the end of its response,
so a server that falls behind shows it in the figures (no coordinated omission); a
request unanswered after 30 s is an error. Each run gets fresh servers (an overloaded
run leaves a backlog that would sink the next) and a warm-up at 25/s. The
requests go round-robin to the servers; each is one viewer of one of the 20
organizations (their own API token, their own client address in X-Forwarded-For as a
proxy would send it) reading the list endpoints as a client does: first pages with and
without filters, next pages through the cursor links, fills and decisions of one account
over a recent period, open positions. Reference, in the same run on two fresh servers:
the same open-loop load on /healthz (a database and a Redis round trip, no
authentication, no serialisation). Goal: p95 under 100 ms at 200 requests/s.
`--sweep` repeats the API mix at lower rates, to find what the machine sustains.

Admin: changelists of orders and fills (unfiltered, a filter, a search, both, a later
page) loaded one after the other as a superuser whose session passed the second factor;
each page's median and worst load time. Goal: under 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from _servers import (
    Daphnes,
    cpu_between,
    cpu_of_named,
    cpu_seconds,
    ensure_database,
    machine_summary,
    production_env,
)
from report import LOWER_IS_BETTER, ratio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE = "spotdesk_bench_load"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
API_GOAL_P95_MS = 100
ADMIN_GOAL_MS = 500


def setup_django() -> None:
    env = production_env(DATABASE, REDIS_URL)
    created = ensure_database(DATABASE, env)
    os.environ.update(env)
    # This process only seeds and signs in; it needs no start-up checks of its own.
    os.environ["SPOTDESK_CHECKS_AT_START"] = "false"
    # Its accounts hold made-up keys: no exchange to verify them against.
    os.environ["EXCHANGE_VERIFY_KEYS_ON_SAVE"] = "false"
    import django

    django.setup()
    if created:
        print(f"created and migrated {DATABASE}")


def prepare() -> tuple[list[dict], list[str], str]:
    """The tenants (seeded if needed), one fresh API token per viewer, and a verified
    admin session."""
    import _seed_load
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.actors import Actor
    from apps.api import tokens
    from apps.api.models import ApiToken
    from tests.accounts.factories import otp_login

    started = time.perf_counter()
    world = _seed_load.tenants()
    print(f"tenants ready in {time.perf_counter() - started:.1f} s")
    if not _seed_load.seeded():
        counts = _seed_load.seed(world)
        print(f"seeded with COPY: {counts}")
    users = get_user_model().objects
    raws = []
    for org in world:
        viewer = users.get(pk=org["viewer"])
        ApiToken.objects.filter(user=viewer, name="load bench").update(revoked_at=datetime.now(UTC))
        _token, raw = tokens.create_token(
            actor=Actor(user=viewer, otp_verified_at=time.time()),
            session_verified=True,
            name="load bench",
            scope="read",
            days=1,
        )
        raws.append(raw)
    name = _seed_load.STAFF_USERNAME
    staff = users.filter(username=name).first() or users.create_superuser(
        name, f"{name}@example.com", None
    )
    client = Client()
    otp_login(client, staff)
    return world, raws, client.cookies["sessionid"].value


def api_paths(world: list[dict], rng: random.Random) -> list[tuple[int, str]]:
    """(viewer index, path) pairs in the proportions a dashboard-like client asks them."""
    now = datetime.now(UTC)
    month = (now - timedelta(days=30)).isoformat()
    week = (now - timedelta(days=7)).isoformat()
    paths = []
    for _ in range(2000):
        u = rng.randrange(len(world))
        account = rng.choice(world[u]["accounts"])["id"]
        kind = rng.random()
        if kind < 0.2:
            query = {}
        elif kind < 0.35:
            query = {"account": account}
        elif kind < 0.5:
            query = {"account": account, "status": "filled", "page_size": 25}
        elif kind < 0.55:
            query = {"intent": "entry", "since": month}
        else:
            query = None
        if query is not None:
            paths.append((u, "/api/v1/orders/?" + urlencode(query)))
        elif kind < 0.7:
            paths.append((u, "/api/v1/fills/?" + urlencode({"account": account, "since": month})))
        elif kind < 0.8:
            paths.append((u, "/api/v1/positions/?status=open"))
        elif kind < 0.85:
            paths.append((u, "/api/v1/positions/?" + urlencode({"account": account})))
        else:
            query = {"account": account, "since": week}
            paths.append((u, "/api/v1/decisions/?" + urlencode(query)))
    return paths


class OpenLoop:
    """Requests due at a fixed rate, sent whether or not earlier ones have returned."""

    def __init__(self, session, servers: list[str], headers: list[dict], rate: float):
        self.session = session
        self.servers = servers
        self.headers = headers
        self.rate = rate

    async def run(self, requests: list[tuple[int, str]], seconds: float) -> dict:
        loop = asyncio.get_running_loop()
        count = int(seconds * self.rate)
        start = loop.time() + 0.05
        tasks = []
        for i in range(count):
            due = start + i / self.rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            user, path = requests[i % len(requests)]
            server = self.servers[i % len(self.servers)]
            tasks.append(asyncio.create_task(self._one(server + path, self.headers[user], due)))
        results = await asyncio.gather(*tasks)
        latencies = [r[0] for r in results]
        statuses: dict[int, int] = {}
        for _lat, status, _next in results:
            statuses[status] = statuses.get(status, 0) + 1
        return {
            "latencies": latencies,
            "statuses": statuses,
            "sent_late_ms": max(0.0, (loop.time() - start - count / self.rate) * 1000),
            "next": [(n, r[2]) for n, r in enumerate(results) if r[2]],
        }

    async def _one(self, url: str, headers: dict, due: float) -> tuple[float, int, str | None]:
        loop = asyncio.get_running_loop()
        try:
            async with self.session.get(url, headers=headers) as response:
                body = await response.read()
                status = response.status
        except Exception:  # a refused or broken connection counts as an error
            return (loop.time() - due) * 1000, 599, None
        elapsed = (loop.time() - due) * 1000
        following = None
        if status == 200 and b'"next":"' in body[:600]:
            following = json.loads(body).get("next")
        return elapsed, status, following


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1]}


def summary(name: str, result: dict, cpu: float) -> dict:
    figures = percentiles(result["latencies"])
    errors = sum(n for status, n in result["statuses"].items() if status != 200)
    print(
        f"{name:>8}: {len(result['latencies'])} requests, p50 {figures['p50']:.1f} ms, "
        f"p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms, max {figures['max']:.0f} ms, "
        f"errors {errors} {dict(sorted(result['statuses'].items()))}, "
        f"servers' CPU {cpu * 1000 / len(result['latencies']):.1f} ms per request"
    )
    return figures | {"errors": errors}


WARMUP_RATE = 25  # gentle enough for any machine: warms pools and caches, finds cursors


def client_headers(raws: list[str]) -> list[dict]:
    return [
        {
            "Authorization": f"Token {raw}",
            "X-Forwarded-For": f"10.72.0.{n + 1}",
            "X-Forwarded-Proto": "https",
        }
        for n, raw in enumerate(raws)
    ]


async def load_phase(
    env, world, raws, options, name: str, rate: float, healthz: bool, seconds: float
) -> dict:
    """One open-loop run on fresh servers (an overloaded run leaves a backlog behind
    that would sink the next one): a gentle warm-up, then `rate` for --seconds."""
    import aiohttp

    headers = client_headers(raws)
    paths = [(0, "/healthz")] if healthz else api_paths(world, random.Random(72))
    connector = aiohttp.TCPConnector(limit=0)
    # A request unanswered after 30 s counts as an error (and bounds an overloaded run).
    timeout = aiohttp.ClientTimeout(total=30)
    with Daphnes(options.servers, env, name="bench-api") as daphnes:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            gentle = OpenLoop(session, daphnes.urls, headers, WARMUP_RATE)
            warm = await gentle.run(paths, options.warmup)
            # The cursors handed out in the warm-up become "next page" asks: one in eight.
            nexts = [
                (paths[n % len(paths)][0], f"{urlsplit(url).path}?{urlsplit(url).query}")
                for n, url in warm["next"]
            ]
            mixed = [
                nexts[n % len(nexts)] if n % 8 == 7 and nexts else item
                for n, item in enumerate(paths)
            ]
            before = cpu_seconds(daphnes.pids)
            others = {label: cpu_of_named((prefix,)) for label, prefix in _SUPPORTING}
            ours = time.process_time()
            result = await OpenLoop(session, daphnes.urls, headers, rate).run(mixed, seconds)
            cpu = cpu_seconds(daphnes.pids) - before
            ours = time.process_time() - ours
            others = {
                label: cpu_between(others[label], cpu_of_named((prefix,)))
                for label, prefix in _SUPPORTING
            }
    figures = summary(name, result, cpu) | {"rate": rate}
    _print_machine_share(result, rate, cpu, others | {"this load generator": ours})
    return figures


# What else on this machine works for each request: the database's backends, Redis, and
# the load generator itself (it shares the cores with the servers it measures).
_SUPPORTING = (("PostgreSQL", "postgres"), ("Redis", "redis-server"))


def _print_machine_share(result: dict, rate: float, daphne: float, others: dict) -> None:
    count = len(result["latencies"])
    parts = {"daphne": daphne, **others}
    per_request = ", ".join(
        f"{label} {seconds * 1000 / count:.2f} ms" for label, seconds in parts.items()
    )
    cores = sum(parts.values()) / count * rate
    print(f"          CPU per request: {per_request}; {cores:.2f} cores at {rate:g}/s "
          f"of {os.cpu_count()}")  # fmt: skip


# The searched order: one in the middle of the table; its client id (and its fill's
# trade id) depend on which account the seeding gave it, so they are read from the
# database.
PROBE_EXCHANGE_ID = 400001
ADMIN_PAGES = (
    ("orders", "/admin/trading/order/"),
    ("orders, filter", "/admin/trading/order/?status__exact=filled"),
    ("orders, search client id", "/admin/trading/order/?q={client_id}"),
    ("orders, search exchange id", f"/admin/trading/order/?q={PROBE_EXCHANGE_ID}"),
    ("orders, filter+search", "/admin/trading/order/?status__exact=canceled&q=ETHUSDT"),
    ("orders, page 100", "/admin/trading/order/?status__exact=filled&p=100"),
    ("fills", "/admin/trading/fill/"),
    ("fills, filter", "/admin/trading/fill/?side__exact=SELL"),
    ("fills, search client id", "/admin/trading/fill/?q={client_id}"),
    ("fills, search trade id", "/admin/trading/fill/?q={trade_id}"),
    ("fills, filter+search", "/admin/trading/fill/?side__exact=BUY&q=BNBUSDT"),
)


def admin_phase(daphnes, cookie: str, rounds: int) -> list[dict]:
    import requests

    session = requests.Session()
    session.cookies.set("sessionid", cookie)
    session.headers["X-Forwarded-Proto"] = "https"
    session.headers["X-Forwarded-For"] = "10.72.1.1"
    from apps.trading.models import Fill, Order

    probe = Order.objects.get(exchange_order_id=PROBE_EXCHANGE_ID)
    trade_id = Fill.objects.filter(order=probe).values_list("exchange_trade_id", flat=True)[0]
    results = []
    for name, template in ADMIN_PAGES:
        path = template.format(client_id=probe.client_order_id, trade_id=trade_id)
        times = []
        for n in range(rounds + 1):
            url = daphnes.urls[n % len(daphnes.urls)] + path
            started = time.perf_counter()
            response = session.get(url, allow_redirects=False)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
            if n:  # the first load of each page warms the servers' caches
                times.append(elapsed)
        counted = _result_count(response.text)
        if name.endswith(" id") and counted not in ("1 order", "1 fill"):
            raise RuntimeError(f"{path}: the searched id should be found once, got {counted}")
        results.append(
            {"page": name, "median": statistics.median(times), "max": max(times), "rows": counted}
        )
        print(
            f"admin {name:>22}: median {results[-1]['median']:.0f} ms, worst "
            f"{results[-1]['max']:.0f} ms ({counted})"
        )
    return results


def _result_count(html: str) -> str:
    import re

    found = re.search(r'class="paginator">\s*(.*?)</p>', html, re.S)
    text = re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""
    return " ".join(text.split())[-40:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--admin-rounds", type=int, default=5)
    parser.add_argument("--seed-only", action="store_true", help="prepare the data, no load")
    parser.add_argument("--admin-only", action="store_true", help="time the admin pages only")
    parser.add_argument(
        "--sweep",
        type=lambda text: [float(r) for r in text.split(",") if r],
        default=[],
        help="after the main run, the same mix at these rates (e.g. 25,50,100)",
    )
    parser.add_argument("--sweep-seconds", type=float, default=20)
    options = parser.parse_args()

    setup_django()
    world, raws, cookie = prepare()
    if options.seed_only:
        return
    print(f"machine: {machine_summary()}")
    env = production_env(DATABASE, REDIS_URL)
    with Daphnes(options.servers, env, name="bench-api") as daphnes:
        admin = admin_phase(daphnes, cookie, options.admin_rounds)
    worst = max(page["median"] for page in admin)
    print(f"admin: slowest page median {worst:.0f} ms, goal {ADMIN_GOAL_MS} ms "
          f"{'met' if worst < ADMIN_GOAL_MS else 'missed'}")  # fmt: skip
    ratio("api_load.admin_slowest_vs_goal", worst / ADMIN_GOAL_MS, better=LOWER_IS_BETTER)
    if options.admin_only:
        return
    rate, seconds = options.rate, options.seconds
    ref = asyncio.run(load_phase(env, world, raws, options, "healthz", rate, True, seconds))
    api = asyncio.run(load_phase(env, world, raws, options, "api", rate, False, seconds))
    sweep = [
        asyncio.run(
            load_phase(env, world, raws, options, f"api@{r:g}/s", r, False, options.sweep_seconds)
        )
        for r in options.sweep
    ]
    print(f"machine after: {machine_summary()}")
    goal = "met" if api["p95"] < API_GOAL_P95_MS and not api["errors"] else "missed"
    print(f"API p95 {api['p95']:.1f} ms at {options.rate:.0f}/s: goal {API_GOAL_P95_MS} ms {goal}")
    within = [f["rate"] for f in sweep if f["p95"] < API_GOAL_P95_MS and not f["errors"]]
    if sweep:
        print(f"sweep: p95 under {API_GOAL_P95_MS} ms up to {max(within, default=0):g}/s")
    ratio("api_load.p95_vs_healthz", api["p95"] / ref["p95"], better=LOWER_IS_BETTER)
    ratio("api_load.p50_vs_healthz", api["p50"] / ref["p50"], better=LOWER_IS_BETTER)
    ratio("api_load.p95_vs_goal", api["p95"] / API_GOAL_P95_MS, better=LOWER_IS_BETTER)


if __name__ == "__main__":
    main()
