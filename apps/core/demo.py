"""Demo data for the embedded default: what `make run` shows a newcomer."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_USERNAME = "demo"


@dataclass(frozen=True)
class DemoSuperuser:
    username: str
    password: str | None  # only when it was just created: shown once, never stored


@transaction.atomic
def ensure_demo_superuser() -> DemoSuperuser:
    """Create the demo superuser with a generated password, or report that it exists."""
    users = get_user_model().objects
    if users.filter(username=DEMO_USERNAME).exists():
        return DemoSuperuser(DEMO_USERNAME, None)
    password = secrets.token_urlsafe(12)
    users.create_superuser(DEMO_USERNAME, email="demo@localhost", password=password)
    return DemoSuperuser(DEMO_USERNAME, password)
