"""``python manage.py run_paper_exchange``: the Binance-compatible paper exchange server."""

import logging

from django.core.management.base import BaseCommand

from apps.paper_exchange.cli import add_server_arguments, config_from_options


class Command(BaseCommand):
    help = "Run the Binance Spot-compatible paper exchange (REST) on --host/--port."

    def add_arguments(self, parser):
        add_server_arguments(parser)

    def handle(self, *args, **options):
        from apps.paper_exchange.server.app import run

        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        run(config_from_options(options))
