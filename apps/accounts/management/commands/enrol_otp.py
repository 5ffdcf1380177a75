"""`python manage.py enrol_otp USERNAME`: give a user an authenticator and backup codes.

For bootstrapping staff (e.g. after `createsuperuser`) and for replacing a lost phone:
existing devices of the user are removed first. The secrets are printed once.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import otp
from apps.audit.services import record_event


class Command(BaseCommand):
    help = "Replace a user's authenticator and backup codes; print them once."

    def add_arguments(self, parser):
        parser.add_argument("username")

    @transaction.atomic
    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user named {username!r}")
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        record_event(action="auth.otp_reset", actor_username=username, changes={"removed": removed})
        _device, uri = otp.provision_totp(user)
        codes = otp.issue_backup_codes(user)
        self.stdout.write(f"TOTP provisioning URI for {username} (shown once):\n  {uri}")
        self.stdout.write(f"Backup codes (each works once):\n  {' '.join(codes)}")
