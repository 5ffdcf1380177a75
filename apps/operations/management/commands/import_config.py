"""Restore a configuration backup: validate, show the diff, apply in one transaction."""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.operations.configio import ConfigImportError, import_configuration


class Command(BaseCommand):
    help = "Import a configuration backup written by export_config (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON file export_config wrote.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and show the diff; change nothing."
        )

    def handle(self, *args, file, dry_run=False, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                document = json.load(handle)
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file}: not JSON ({exc.msg}, line {exc.lineno})") from None
        try:
            result = import_configuration(document, dry_run=dry_run)
        except ConfigImportError as exc:
            raise CommandError(f"Nothing was imported. {exc.message}") from None
        for step in result.steps:
            self.stdout.write(f"{step.status:<12} {step.section:<20} {step.as_dict()['object']}")
            for name, change in step.as_dict()["fields"].items():
                before = json.dumps(change["before"])
                after = json.dumps(change["after"])
                self.stdout.write(f"{'':<12}   {name}: {before} -> {after}")
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
        verdict = "applied" if result.applied else "dry run, nothing changed"
        self.stdout.write(f"{counts or 'empty file'} ({verdict}).")
