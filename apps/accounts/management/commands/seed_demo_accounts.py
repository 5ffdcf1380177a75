"""`python manage.py seed_demo_accounts`: demo organization and users, secrets shown once."""

from django.core.management.base import BaseCommand

from apps.accounts.demo import DEMO_ORGANIZATION, ensure_demo_tenancy


class Command(BaseCommand):
    help = "Create the demo organization with a user of each role; print new logins once."

    def handle(self, *args, **options):
        fresh = ensure_demo_tenancy()
        if not fresh:
            self.stdout.write(
                f"  demo organization '{DEMO_ORGANIZATION}' and its users exist "
                "(reset a password with `python manage.py changepassword USER`, "
                "a second factor with `python manage.py enrol_otp USER`)"
            )
            return
        self.stdout.write(self.style.WARNING("  demo logins (shown once, keep them now):"))
        for login in fresh:
            line = f"    {login.username:<12} {login.role:<13}"
            if login.password:
                line += f" password: {login.password}"
            self.stdout.write(line)
            if login.totp_uri:
                self.stdout.write(f"      TOTP: {login.totp_uri}")
                self.stdout.write(f"      backup codes: {', '.join(login.backup_codes)}")
        self.stdout.write(
            "  Add a TOTP URI to an authenticator app (or use a backup code) and log in at "
            "/accounts/login/"
        )
