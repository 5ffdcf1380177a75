"""`python manage.py standalone`: the whole platform on one machine, with demo data."""

import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.core.demo import ensure_demo_superuser
from apps.core.errors import ConfigurationError
from apps.core.standalone import procfile_lines, write_procfile


class Command(BaseCommand):
    help = "Migrate, create demo data and run web, worker and beat together (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("SPOTDESK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("SPOTDESK_PORT", 8000)))
        parser.add_argument("--no-migrate", action="store_true", help="Skip `migrate`.")

    def handle(self, *args, host, port, no_migrate, **options):
        try:
            lines = procfile_lines(host=host, port=port)
        except ConfigurationError as exc:
            raise CommandError(exc.message) from None
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        demo = ensure_demo_superuser()
        self._announce(demo, host, port)
        # The demo organization, users of each role with their second factors, and paper
        # accounts with strategies (apps.trading; called by name so core does not import it).
        call_command("seed_demo", stdout=self.stdout)
        procfile = write_procfile(lines, Path(settings.VAR_DIR) / "Procfile.standalone")
        honcho = shutil.which("honcho", path=str(Path(sys.executable).parent)) or "honcho"
        sys.stdout.flush()
        # honcho replaces this process: its signal handling stops every child on Ctrl-C.
        os.execv(  # noqa: S606  (honcho from our own venv, fixed arguments)
            honcho,
            [honcho, "-f", str(procfile), "-d", str(settings.BASE_DIR), "--no-colour", "start"],
        )

    def _announce(self, demo, host: str, port: int) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(f"Spotdesk is starting at http://{host}:{port}/"))
        out.write(
            f"  log in: http://{host}:{port}/accounts/login/   ops console: "
            f"http://{host}:{port}/admin/   fleet status: http://{host}:{port}/status"
        )
        if demo.password:
            out.write(
                self.style.WARNING(
                    f"  demo superuser: {demo.username} / {demo.password}  (shown once; "
                    f"change it with `python manage.py changepassword {demo.username}`)"
                )
            )
        else:
            out.write(
                f"  demo superuser: {demo.username} (exists; reset its password with "
                f"`python manage.py changepassword {demo.username}`)"
            )
