"""`python manage.py seed_demo`: the demo organization, its users of each role, and three
paper accounts trading on the paper exchange. Secrets are printed once."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ConfigurationError
from apps.trading.demo import DEMO_INTERVAL, ensure_demo_trading


class Command(BaseCommand):
    help = (
        "Create the demo organization and users, and paper accounts (keys provisioned on the "
        "paper exchange) running strategies on BTCUSDT, ETHUSDT and XRPETH."
    )

    def handle(self, *args, **options):
        call_command("seed_demo_accounts", stdout=self.stdout)
        try:
            seeded = ensure_demo_trading()
        except ConfigurationError as exc:
            raise CommandError(exc.message) from None
        for item in seeded:
            state = "created" if item.created else "exists"
            configs = ", ".join(c.name for c in item.account.strategy_configs.all())
            self.stdout.write(f"  paper account {item.account.name!r} ({state}): {configs}")
        self.stdout.write(
            f"  Decisions appear in the admin at every {DEMO_INTERVAL} close, orders and "
            "fills when a strategy signals (Trading → Decisions, Orders, Fills)."
        )
