"""`python manage.py verify_audit_chain [--organization ID | --platform]`."""

from django.core.management.base import BaseCommand, CommandError

from apps.audit.verify import verify_chains


class Command(BaseCommand):
    help = "Recompute the audit hash chains and report the first broken link of each."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--organization", type=int, help="Only this organization's chain.")
        group.add_argument("--platform", action="store_true", help="Only the platform chain.")

    def handle(self, *args, organization, platform, **options):
        reports = verify_chains(organization, platform=platform)
        broken = [r for r in reports if not r.ok]
        for report in reports:
            if report.ok:
                self.stdout.write(f"{report.chain}: ok ({report.checked} events)")
            else:
                where = f"sequence {report.broken_sequence}"
                if report.broken_event_id is not None:
                    where += f" (event id {report.broken_event_id})"
                self.stdout.write(f"{report.chain}: BROKEN at {where}: {report.reason}")
        if broken:
            raise CommandError(f"{len(broken)} of {len(reports)} audit chains are broken.")
        self.stdout.write(self.style.SUCCESS(f"{len(reports)} audit chains verified."))
