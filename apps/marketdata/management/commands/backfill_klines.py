"""python manage.py backfill_klines SYMBOL INTERVAL --days N [--environment paper]"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import SpotdeskError
from apps.exchange.streams.kline_gaps import INTERVAL_MS
from apps.marketdata.backfill import backfill_klines
from apps.marketdata.management.commands.import_klines import ProgressBar


class Command(BaseCommand):
    help = "Fetch the last N days of closed klines from the exchange into Candle (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("symbol")
        parser.add_argument("interval")
        parser.add_argument("--days", type=float, default=7.0)
        parser.add_argument("--environment", default="paper")

    def handle(self, *args, symbol, interval, days, environment, **options):
        if interval not in INTERVAL_MS:
            raise CommandError(f"interval: must be one of {', '.join(INTERVAL_MS)}")
        if days <= 0:
            raise CommandError("--days: must be greater than 0")
        from apps.exchange.gateway import ExchangeGateway

        now = int(time.time() * 1000)
        try:
            written = backfill_klines(
                ExchangeGateway(environment),
                environment=environment,
                symbol=symbol.upper(),
                interval=interval,
                start_ms=now - int(days * 86_400_000),
                end_ms=now,
                progress=ProgressBar(f"{symbol.upper()} {interval}", sys.stderr),
            )
        except SpotdeskError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{written:,} candles stored for {symbol.upper()} {interval}")
