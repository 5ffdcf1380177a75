"""``python manage.py paper_exchange keys create|list`` and ``balances set``.

Talks to the running server's admin endpoint (``--url``, token from
``PAPER_EXCHANGE_ADMIN_TOKEN``), or edits a state file offline with ``--state-file``.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.paper_exchange.cli import add_admin_arguments, run_admin
from apps.paper_exchange.provisioning import ProvisioningError


class Command(BaseCommand):
    help = "Provision paper exchange accounts: keys create/list, balances set."

    def add_arguments(self, parser):
        add_admin_arguments(parser)

    def handle(self, *args, **options):
        try:
            result = run_admin(options)
        except ProvisioningError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(result, indent=2))
