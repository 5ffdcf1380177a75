"""Write the configuration (no secrets, no keys) as a versioned JSON backup."""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Organization
from apps.core.errors import SpotdeskError
from apps.operations.configio import export_configuration


class Command(BaseCommand):
    help = (
        "Export organizations, accounts (without keys), strategy configs, risk profiles "
        "and notification routes as versioned JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", metavar="SLUG", help="Only this organization.")
        parser.add_argument("--output", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args, organization=None, output=None, **options):
        org = None
        if organization:
            org = Organization.objects.filter(slug=organization).first()
            if org is None:
                raise CommandError(f"--organization: no organization has the slug {organization!r}")
        try:
            document = export_configuration(org)
        except SpotdeskError as exc:
            raise CommandError(exc.message) from None
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"Configuration written to {output}.")
        else:
            self.stdout.write(text, ending="")
