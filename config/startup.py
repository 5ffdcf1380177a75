"""Start-up guard for processes that don't run Django's system checks themselves.

`manage.py runserver` and `migrate` run the checks; daphne and Celery do not. With
SPOTDESK_CHECKS_AT_START on (the production default) they refuse to start on any
check at Error level, printing every message, instead of failing at the first trade.
"""

import sys

from django.conf import settings
from django.core import checks


def run_system_checks_or_exit(process: str) -> None:
    if not getattr(settings, "SPOTDESK_CHECKS_AT_START", False):
        return
    messages = checks.run_checks(include_deployment_checks=True)
    silenced = set(getattr(settings, "SILENCED_SYSTEM_CHECKS", []))
    serious = [m for m in messages if m.is_serious() and m.id not in silenced]
    if serious:
        lines = [f"{process}: refusing to start, the configuration is incomplete:"]
        lines += [f"  {m.id}: {m.msg} {m.hint or ''}".rstrip() for m in serious]
        sys.stderr.write("\n".join(lines) + "\n")
        raise SystemExit(78)  # EX_CONFIG
