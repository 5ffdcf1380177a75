"""`python manage.py reconcile [--account ID ...]`: compare accounts with the exchange
now (every followed account by default), each under its lock, and print the outcome."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Reconcile exchange accounts with the exchange (orders, trades, balances)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--account",
            type=int,
            action="append",
            dest="accounts",
            help="an exchange account id (repeatable); default: all followed",
        )

    def handle(self, *args, accounts=None, **options):
        from apps.trading.locks import AccountBusy
        from apps.trading.reconciliation import followed_account_ids, run_reconciliation

        account_ids = accounts or followed_account_ids()
        failed = 0
        for account_id in account_ids:
            try:
                report = run_reconciliation(account_id, trigger="command")
            except AccountBusy:
                self.stdout.write(f"account {account_id}: busy (a cycle holds its lock)")
                continue
            except Exception as exc:  # one account's failure must not stop the others
                failed += 1
                self.stderr.write(f"account {account_id}: failed: {type(exc).__name__}: {exc}")
                continue
            changed = ", ".join(f"{k} {v}" for k, v in report.counts.items() if v) or "no change"
            self.stdout.write(f"account {account_id}: {report.status} ({changed})")
            for finding in report.findings:
                self.stdout.write(f"  - {finding['message']}")
        if failed:
            raise CommandError(f"{failed} account(s) could not be reconciled")
