"""python manage.py import_klines FILE... : Binance kline dumps (CSV, gzip, zip)."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Environment
from apps.core.errors import ValidationError
from apps.marketdata.importer import import_file
from apps.marketdata.warming import warm_active


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, stream, width: int = 30):
        self.label, self.stream, self.width = label, stream, width
        self.last = 0.0

    def __call__(self, done: int, total: int, rows: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {share:6.1%} {rows:,} rows")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import Binance kline dumps (CSV, .gz or .zip, 12-column layout) idempotently."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--symbol", help="Symbol when the file name does not start with it.")
        parser.add_argument("--interval", help="Interval when the file name does not say it.")
        parser.add_argument(
            "--environment",
            default=Environment.LIVE,
            choices=Environment.values,
            help="Whose market data this is (default: live; Binance's dumps are live data).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        show = not options["no_progress"] and sys.stderr.isatty()
        imported = set()
        for path in options["files"]:
            progress = ProgressBar(path, sys.stderr) if show else None
            try:
                result = import_file(
                    path,
                    environment=options["environment"],
                    symbol=options["symbol"],
                    interval=options["interval"],
                    progress=progress,
                )
            except ValidationError as exc:
                raise CommandError(exc.message) from None
            imported.add((result.symbol, result.interval))
            self.stdout.write(
                f"{result.path}: {result.rows} candles of {result.symbol} {result.interval}"
            )
        warmed = warm_active(environment=options["environment"], streams=imported)
        if warmed:
            self.stdout.write(f"cache refreshed for {', '.join(f'{s} {i}' for s, i in warmed)}")
