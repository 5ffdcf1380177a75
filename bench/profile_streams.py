"""Profile of the streams hot path: a closed kline from the paper exchange to the stored
candle and the fan-out's enqueued tasks, and a user-data event to a booked fill.

Run: .venv/bin/python bench/profile_streams.py [--accounts 10] [--minutes 20] [--orders 40]

Builds its own database (`spotdesk_bench_profile_streams`, dropped and migrated) and uses
the Redis db in `BENCH_REDIS_URL` (default db 14; flushed: the fan-out's tasks are
published there and nobody consumes them). Starts the paper exchange (test clock,
BTCUSDT/ETHUSDT/BNBUSDT) and N paper accounts, each with one breakout config on the
three symbols, then runs both halves of the streams process (`MarketDataShard` with
the real fan-out hook, `UserDataShard`) in this process's event loop, as run_streams
does. Two bursts, each profiled with pyinstrument in the two threads that do the work:
the event loop (WebSocket frames, JSON, dispatch) and asgiref's sync thread (database,
Redis, Celery publishing: every `sync_to_async` call of the streams runs there).

- market: the exchange clock moves ``--minutes`` one minute at a time; each step closes
  one kline per symbol: upsert, cache, ticker, fan-out (one group task per symbol);
- user data: ``--orders`` MARKET orders placed on the exchange outside Spotdesk, so each
  executionReport is adopted and its fills booked from the stream alone.

Printed per burst and thread: busy time per event and the self time by kind of code.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _harness import recreate_database, start_unlimited_exchange  # noqa: E402

DB_NAME = "spotdesk_bench_profile_streams"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ADMIN_TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a loopback bench server
SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")
MINUTE_MS = 60_000
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL
)
PY = sys.executable


def start_exchange(port: int) -> subprocess.Popen:
    return start_unlimited_exchange(
        port,
        admin_token=ADMIN_TOKEN,
        log_name="bench-profile-streams-exchange.log",
        options=("--symbols", ",".join(SYMBOLS), "--history-days", "1"),
    )


def admin(url: str):
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    for _ in range(300):
        try:
            session.get(f"{url}/api/v3/ping", timeout=1)
            return session
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the paper exchange did not start")


def provision(session, url: str, accounts: int) -> list:
    from apps.accounts.actors import Actor
    from apps.accounts.models import AccountStatus, ExchangeAccount
    from apps.accounts.services import create_exchange_account, create_organization
    from apps.strategies.services import create_strategy_config, resume_strategy_config
    from tests.trading.cycle.support import BREAKOUT

    system = Actor.for_system()
    org = create_organization(actor=system, name="Profile streams")
    created = []
    for i in range(accounts):
        key = session.post(f"{url}/admin/keys", json={"balances": {"USDT": "1000000"}}).json()
        account = create_exchange_account(
            actor=system, organization=org, name=f"streams {i}", environment="paper",
            api_key=key["apiKey"], secret=key["secretKey"],
        )  # fmt: skip
        ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
        config = create_strategy_config(
            actor=system, account=account, name="breakout", strategy="breakout",
            symbols=list(SYMBOLS), interval="1m", params=dict(BREAKOUT),
        )  # fmt: skip
        resume_strategy_config(actor=system, config=config)
        created.append(account)
    return created


class ThreadProfiles:
    """One pyinstrument profiler in the event loop's thread and one in asgiref's sync
    thread (pyinstrument follows the thread that starts it)."""

    def __init__(self):
        from pyinstrument import Profiler

        self.loop = Profiler(interval=0.0005, async_mode="disabled")
        self.sync = Profiler(interval=0.0005, async_mode="disabled")

    async def __aenter__(self):
        from asgiref.sync import sync_to_async

        await sync_to_async(self.sync.start)()
        self.loop.start()
        self.started = time.perf_counter()
        return self

    async def __aexit__(self, *exc):
        from asgiref.sync import sync_to_async

        self.wall = time.perf_counter() - self.started
        self.loop_session = self.loop.stop()
        self.sync_session = await sync_to_async(self.sync.stop)()


def report(name: str, profiles: ThreadProfiles, events: int, unit: str, top: int) -> None:
    from apps.monitoring.profiling import IDLE, breakdown, self_times

    print(f"\n===== {name}: {events} {unit} in {profiles.wall:.2f} s wall")
    for thread, profiler, session in (
        ("event loop thread", profiles.loop, profiles.loop_session),
        ("sync thread (sync_to_async)", profiles.sync, profiles.sync_session),
    ):
        root = session.root_frame()
        if root is None:
            print(f"--- {thread}: no samples")
            continue
        rows = breakdown(self_times(root))
        busy = sum(spent for label, spent in rows if label != IDLE)
        print(f"--- {thread}: busy {busy * 1000:.0f} ms of {root.time * 1000:.0f} ms, "
              f"{busy * 1000 / events:.2f} ms per {unit[:-1]}")  # fmt: skip
        text = profiler.output_text(unicode=False, color=False, time="percent_of_total")
        print("\n".join(text.splitlines()[: top + 8]))
        print(f"self time by kind of code ({name}, {thread}), ms per {unit[:-1]} and busy share:")
        for label, spent in rows:
            share = "" if label == IDLE else f"{spent / busy:>7.1%}"
            print(f"  {label:<62}{spent * 1000 / events:>8.2f} ms {share}")


async def until(condition, timeout: float, what: str) -> None:
    """Poll from a thread of the default executor: asgiref's sync thread is profiled."""

    def check():
        from django.db import connection

        try:
            return condition()
        finally:
            connection.close()

    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def run(url: str, session, accounts: list, options) -> None:
    from apps.exchange.for_account import gateway_for_account
    from apps.marketdata.ingestion import MarketDataShard
    from apps.marketdata.models import Candle
    from apps.trading.cycle.fanout import on_closed_candle
    from apps.trading.models import Fill, Order, OrderStatus
    from apps.trading.userdata_shard import UserDataShard

    market = MarketDataShard(environment="paper", refresh_seconds=1.0,
                             on_closed_candle=on_closed_candle)  # fmt: skip
    user = UserDataShard(environment="paper", refresh_seconds=1.0, reconcile=False)
    stop = asyncio.Event()
    runners = [asyncio.create_task(half.run(stop)) for half in (market, user)]
    try:
        await asyncio.wait_for(market.supervisor.connected.wait(), 30)
        await until(lambda: len(market.followed) == len(SYMBOLS), 30, "market subscriptions")
        ids = {account.pk for account in accounts}

        def subscribed():
            live = set()
            for session_ in user.sessions._sessions:
                live |= set(session_.subscriptions.values())
            return ids <= live

        await until(subscribed, 60, "user-data subscriptions")

        def advance() -> None:
            answer = session.post(f"{url}/admin/clock/advance", json={"ms": MINUTE_MS})
            answer.raise_for_status()

        await asyncio.to_thread(advance)  # the first close after subscribing: not measured
        await asyncio.sleep(2)
        before = await asyncio.to_thread(Candle.objects.count)
        expected = before + options.minutes * len(SYMBOLS)
        async with ThreadProfiles() as market_profiles:
            for _ in range(options.minutes):
                await asyncio.to_thread(advance)
            await until(lambda: Candle.objects.count() >= expected, 120, "closed candles")
        report("market: closed kline -> candle + fan-out", market_profiles,
               options.minutes * len(SYMBOLS), "candles", options.top)  # fmt: skip

        gateways = await asyncio.to_thread(
            lambda: [gateway_for_account(account) for account in accounts]
        )

        def place(index: int) -> None:
            gateways[index % len(gateways)].request(
                "POST", "/api/v3/order",
                {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001",
                 "newClientOrderId": f"profile-{index}"},
                signed=True,
            )  # fmt: skip

        async with ThreadProfiles() as user_profiles:
            for index in range(options.orders):
                await asyncio.to_thread(place, index)
            await until(
                lambda: Order.objects.filter(client_order_id__startswith="profile-",
                                             status=OrderStatus.FILLED).count() >= options.orders,
                120, "adopted orders",
            )  # fmt: skip
        fills = await asyncio.to_thread(Fill.objects.count)
        report("user data: executionReport -> adopted order + booked fills", user_profiles,
               options.orders, "orders", options.top)  # fmt: skip
        print(f"({fills} fills booked for {options.orders} orders)")
    finally:
        stop.set()
        await asyncio.gather(*runners, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--minutes", type=int, default=20, help="market steps (1m each)")
    parser.add_argument("--orders", type=int, default=40, help="external orders to book")
    parser.add_argument("--top", type=int, default=40, help="lines of each tree to print")
    options = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings

    from apps.core.redis import get_redis
    from apps.exchange.gateway import ExchangeGateway
    from apps.marketdata.services import sync_symbols
    from tests.support.processes import free_port

    get_redis().flushdb()
    settings.MARKETDATA_WARMUP_CANDLES = 0  # history is not the hot path
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exchange = start_exchange(port)
    try:
        session = admin(url)
        settings.PAPER_EXCHANGE_URL = os.environ["PAPER_EXCHANGE_URL"] = url
        sync_symbols(
            environment="paper", exchange_info=ExchangeGateway("paper").exchange_info(refresh=True)
        )
        accounts = provision(session, url, options.accounts)
        from django.db import connections

        connections.close_all()  # the streams open their own, in their sync thread
        asyncio.run(run(url, session, accounts, options))
    finally:
        exchange.terminate()
        exchange.wait(30)
        get_redis().flushdb()  # the fan-out's unconsumed tasks


if __name__ == "__main__":
    main()
