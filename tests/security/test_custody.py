"""Custody rules that hold for the whole code base, checked on the source itself."""

import re
from pathlib import Path

from tests.support.processes import PROJECT_ROOT

# Plaintext leaves a SealedSecret only where the exchange client gets its credentials.
# Where a stored secret may be decrypted: right before it is used, nowhere else.
ALLOWED_REVEAL = {
    Path("apps/accounts/credentials.py"),  # exchange keys, for the gateway
    Path("apps/monitoring/notifications/credentials.py"),  # notification channel secrets
    Path("apps/strategies/webhook_credentials.py"),  # signal webhook secrets, to verify
}


def test_only_the_credentials_module_decrypts_secrets():
    callers = set()
    for path in (PROJECT_ROOT / "apps").rglob("*.py"):
        relative = path.relative_to(PROJECT_ROOT)
        if relative.parts[:3] == ("apps", "core", "crypto"):
            continue
        if re.search(r"\.reveal\(\)|cipher\.decrypt\(", path.read_text()):
            callers.add(relative)
    assert callers == ALLOWED_REVEAL


def test_tasks_never_take_secrets_as_arguments():
    # Celery serialises task arguments to JSON in Redis: they must never carry a secret.
    suspicious = re.compile(r"def \w+\([^)]*\b(secret|api_key|password|private_key)\b")
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "apps").rglob("tasks.py")
        if suspicious.search(path.read_text())
    ]
    assert offenders == []
