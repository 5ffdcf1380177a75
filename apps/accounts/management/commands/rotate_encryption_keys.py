"""`python manage.py rotate_encryption_keys`: re-encrypt every secret under the new key.

Put the new key first in the key source (keep the old ones after it), restart the
processes, run this, then remove the old keys. Safe to run again at any time.
"""

from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import record_event
from apps.core.crypto.cipher import DecryptionError
from apps.core.crypto.rotation import rotate_all
from apps.core.errors import ConfigurationError


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first encryption key (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        try:
            report = rotate_all(batch_size=batch_size)
        except (ConfigurationError, DecryptionError) as exc:
            raise CommandError(exc.message) from None
        record_event(
            action="encryption_keys.rotated",
            changes={
                "rotated": report.rotated,
                "already_current": report.already_current,
                "changed_meanwhile": report.changed_meanwhile,
            },
        )
        for label, count in sorted(report.per_field.items()):
            self.stdout.write(f"  {label}: {count} re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.rotated} secrets re-encrypted, {report.already_current} already "
                f"under the current key, {report.changed_meanwhile} changed meanwhile."
            )
        )
