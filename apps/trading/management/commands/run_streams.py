"""`python manage.py run_streams [--shard i/n]`: the streams process.

Two halves, each sharded with its own key so nothing is ingested twice or missed:
- market data by symbol: every (symbol, interval) an enabled strategy config trades,
  each closed candle written, cached and fanned out to the per-candle cycle tasks, and
  each symbol's order book kept with its liquidity summary in Redis
  (`MARKETDATA_ORDER_BOOKS`);
- user data by account: every followed account's executionReports, balance updates
  and account positions booked as they happen, reconciled on start and after a gap.

It lives in `trading` because the fan-out and the fill booking do (marketdata must
not import trading).
"""

import asyncio
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.marketdata.ingestion import MarketDataShard, parse_shard
from apps.trading.cycle.fanout import on_closed_candle
from apps.trading.userdata_shard import UserDataShard


class Command(BaseCommand):
    help = "Run the market-data streams of one shard (Ctrl-C or SIGTERM stops it)."

    def add_arguments(self, parser):
        parser.add_argument("--shard", default="0/1", help="i/n: this process's shard")
        parser.add_argument(
            "--environment",
            default=os.environ.get("STREAMS_ENVIRONMENT", "paper"),
            help="live, testnet, demo or paper (default $STREAMS_ENVIRONMENT or paper)",
        )
        parser.add_argument(
            "--refresh", type=float, default=30.0, help="seconds between config reads"
        )
        parser.add_argument(
            "--only",
            choices=("market", "user"),
            default=None,
            help="run one half only (default: both)",
        )

    def handle(self, *args, shard, environment, refresh, only, **options):
        try:
            index, count = parse_shard(shard)
        except ValueError as exc:
            raise CommandError(f"--shard: {exc}") from None
        from apps.monitoring.exporter import start_metrics_server

        start_metrics_server(settings.STREAMS_METRICS_PORT)
        profiler = _profile_listener(environment, index)
        self.stdout.write(f"streams: {environment} shard {index}/{count}")
        self.stdout.write(f"streams: profilable as {profiler.name} (manage.py profile_process)")
        try:
            asyncio.run(self._run(environment, index, count, refresh, only))
        finally:
            profiler.stop()

    async def _run(self, environment, index: int, count: int, refresh: float, only) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        halves = []
        if only in (None, "market"):
            halves.append(
                MarketDataShard(
                    environment=environment,
                    shard=index,
                    shard_count=count,
                    refresh_seconds=refresh,
                    on_closed_candle=on_closed_candle,
                )
            )
        if only in (None, "user"):
            halves.append(
                UserDataShard(
                    environment=environment,
                    shard=index,
                    shard_count=count,
                    refresh_seconds=refresh,
                )
            )
        await asyncio.gather(*(half.run(stop) for half in halves))


def _profile_listener(environment: str, shard: int):
    """On-demand profiling of this process (apps/monitoring/profiling.py): a thread
    polling its Redis key once a second."""
    from apps.core.redis import get_redis
    from apps.monitoring.profiling import ProfileListener, streams_listener_name

    name = streams_listener_name(environment, shard)
    return ProfileListener(name, lambda: get_redis(timeout=5.0), kind="streams").start()
