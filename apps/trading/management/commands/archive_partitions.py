"""python manage.py archive_partitions: create upcoming monthly partitions of candles
and decisions, and archive (gzip CSV, then drop) the months past retention."""

from pathlib import Path

from django.core.management.base import BaseCommand

from apps.marketdata import conf
from apps.trading.partitions import archive_expired, ensure_ahead


class Command(BaseCommand):
    help = "Create upcoming partitions; archive and drop months past retention."

    def add_arguments(self, parser):
        parser.add_argument("--directory", default=None, help="Where archives are written.")
        parser.add_argument("--dry-run", action="store_true", help="List, change nothing.")

    def handle(self, *args, **options):
        directory = Path(options["directory"] or conf.archive_dir())
        if not options["dry_run"]:
            for created in ensure_ahead():
                self.stdout.write(f"created partition {created}")
        for name in archive_expired(directory=directory, dry_run=options["dry_run"]):
            verb = "would archive" if options["dry_run"] else "archived"
            self.stdout.write(f"{verb} {name} -> {directory}")
