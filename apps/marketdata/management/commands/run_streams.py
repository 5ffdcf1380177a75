"""`python manage.py run_streams [--shard i/n]`: the market-data streams process.

It follows every (symbol, interval) an enabled strategy config trades, for the symbols
its shard owns, writes each closed candle and keeps the Redis cache current. User-data
sessions per account shard join this process with the trading core's cycle work.
"""

import asyncio
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.marketdata.ingestion import MarketDataShard, parse_shard


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

    def handle(self, *args, shard, environment, refresh, **options):
        try:
            index, count = parse_shard(shard)
        except ValueError as exc:
            raise CommandError(f"--shard: {exc}") from None
        from apps.monitoring.exporter import start_metrics_server

        start_metrics_server(settings.STREAMS_METRICS_PORT)
        self.stdout.write(f"streams: {environment} shard {index}/{count}")
        asyncio.run(self._run(environment, index, count, refresh))

    async def _run(self, environment: str, index: int, count: int, refresh: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        shard = MarketDataShard(
            environment=environment, shard=index, shard_count=count, refresh_seconds=refresh
        )
        await shard.run(stop)
