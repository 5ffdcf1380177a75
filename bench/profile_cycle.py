"""Profile of the per-account cycle (apps/trading/cycle): where one evaluation's time goes.

Run: .venv/bin/python bench/profile_cycle.py [--accounts 20] [--top 40]

Builds its own database (`spotdesk_bench_profile`, dropped and migrated) and uses the
Redis db in `BENCH_REDIS_URL` (default db 14; flushed), starts the paper exchange on
loopback and N paper accounts, each with one breakout config in one signal group. Then
`run_group` runs in this thread (cycle concurrency 1, so pyinstrument sees all of it)
on two successive 1m candles:

- hold: a quiet candle, every account evaluates and records its Decision;
- entry: a breakout candle, every account refreshes its balances, is sized by the risk
  engine, sends a MARKET entry and places its protection (stop) orders.

Printed per round: wall time per account, pyinstrument's tree (percent of the round)
and the self time by kind of code (database, Redis, exchange HTTP, Spotdesk code...),
in ms per account and percent. The exchange runs on this machine, so "exchange HTTP"
includes the paper exchange's own work while the client waits.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from _harness import (  # noqa: E402
    recreate_database,
    start_unlimited_exchange,
    wait_for_exchange,
)

DB_NAME = "spotdesk_bench_profile"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ADMIN_TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a loopback bench server
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL
)
PY = sys.executable


def start_exchange(port: int) -> subprocess.Popen:
    return start_unlimited_exchange(
        port,
        admin_token=ADMIN_TOKEN,
        log_name="bench-profile-exchange.log",
        options=("--history-days", "2"),
    )


def provision(url: str, accounts: int) -> list[int]:
    import requests

    from apps.accounts.actors import Actor
    from apps.accounts.models import AccountStatus, ExchangeAccount
    from apps.accounts.services import create_exchange_account, create_organization
    from apps.strategies.services import create_strategy_config, resume_strategy_config
    from tests.trading.cycle.support import BREAKOUT

    system = Actor.for_system()
    org = create_organization(actor=system, name="Profile")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    ids = []
    for i in range(accounts):
        key = session.post(f"{url}/admin/keys", json={"balances": {"USDT": "10000"}}).json()
        account = create_exchange_account(
            actor=system, organization=org, name=f"profile {i}", environment="paper",
            api_key=key["apiKey"], secret=key["secretKey"],
        )  # fmt: skip
        ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
        config = create_strategy_config(
            actor=system, account=account, name="breakout", strategy="breakout",
            symbols=["BTCUSDT"], interval="1m", params=dict(BREAKOUT),
        )  # fmt: skip
        resume_strategy_config(actor=system, config=config)
        ids.append(config.pk)
    return ids


def profile_round(name: str, open_ms: int, klines: list, config_ids: list[int], top: int) -> None:
    from pyinstrument import Profiler

    from apps.monitoring.profiling import breakdown, self_times
    from apps.trading.cycle.group import run_group
    from apps.trading.models import Decision, Order
    from tests.trading.cycle.support import store_klines

    store_klines("paper", "BTCUSDT", "1m", klines)
    orders_before = Order.objects.count()
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    started = time.perf_counter()
    profiler.start()
    report = run_group(
        environment="paper", symbol="BTCUSDT", interval="1m", open_time_ms=open_ms,
        config_ids=config_ids,
    )  # fmt: skip
    session = profiler.stop()
    wall = time.perf_counter() - started
    n = len(config_ids)
    decisions = Decision.objects.filter(candle_open_time__gte=_dt(open_ms)).count()
    print(f"\n===== round {name}: {n} accounts, signal {report.signal}, {dict(report.counts)}, "
          f"{decisions} decisions, {Order.objects.count() - orders_before} orders")  # fmt: skip
    print(f"wall {wall * 1000:.0f} ms, {wall * 1000 / n:.1f} ms per account evaluation")
    text = profiler.output_text(unicode=False, color=False, time="percent_of_total")
    print("\n".join(text.splitlines()[: top + 8]))
    print(f"self time by kind of code (round {name}), ms per account and share:")
    root = session.root_frame()
    total = root.time if root is not None else 0.0
    for label, spent in breakdown(self_times(root)) if root is not None else []:
        print(f"  {label:<62}{spent * 1000 / n:>8.2f} ms {spent / total:>7.1%}")


def _dt(ms: int):
    from apps.marketdata.times import ms_to_datetime

    return ms_to_datetime(ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--top", type=int, default=40, help="lines of the tree to print")
    options = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.conf import settings

    from apps.core.redis import get_redis
    from apps.exchange.gateway import ExchangeGateway
    from apps.marketdata.services import sync_symbols
    from tests.support.processes import free_port
    from tests.trading.cycle.support import MINUTE_MS, breakout_klines, last_closed_open_ms

    get_redis().flushdb()
    # One thread, so the profiler sees every evaluation; the candles may be a few
    # minutes old by the time the accounts exist.
    settings.TRADING_CYCLE_CONCURRENCY = 1
    settings.TRADING_MAX_TRIGGER_AGE_SECONDS = 3600
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exchange = start_exchange(port)
    try:
        wait_for_exchange(url)
        settings.PAPER_EXCHANGE_URL = os.environ["PAPER_EXCHANGE_URL"] = url
        gateway = ExchangeGateway("paper")
        sync_symbols(environment="paper", exchange_info=gateway.exchange_info(refresh=True))
        price = Decimal(gateway.avg_price("BTCUSDT")["price"])
        config_ids = provision(url, options.accounts)
        first = last_closed_open_ms()
        hold = breakout_klines(price, first - MINUTE_MS, breakout=False)
        profile_round("hold", first - MINUTE_MS, hold, config_ids, options.top)
        entry = breakout_klines(price, first)
        profile_round("entry", first, entry, config_ids, options.top)
    finally:
        exchange.terminate()
        exchange.wait(30)


if __name__ == "__main__":
    main()
