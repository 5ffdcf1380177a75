"""Demo tenancy for the embedded default: an organization with a member of each role.

Passwords, TOTP provisioning URIs and backup codes are generated here and returned
once for printing; nothing but their hashes (and django-otp's device rows) is kept.
"""

import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from . import otp, services
from .actors import Actor
from .models import Membership, Organization
from .roles import OTP_REQUIRED_ROLES, Role

DEMO_ORGANIZATION = "Demo Desk"
DEMO_SUPERUSER = "demo"
DEMO_MEMBERS = {
    "demo-viewer": Role.VIEWER,
    "demo-trader": Role.TRADER,
    "demo-risk": Role.RISK_OFFICER,
    "demo-admin": Role.ADMIN,
}
SHOWN_BACKUP_CODES = 3


@dataclass
class DemoLogin:
    username: str
    role: str
    password: str | None = None
    totp_uri: str | None = None
    backup_codes: list[str] = field(default_factory=list)


def _second_factor(user, login: DemoLogin) -> None:
    if otp.has_confirmed_device(user):
        return
    _device, login.totp_uri = otp.provision_totp(user)
    login.backup_codes = otp.issue_backup_codes(user)[:SHOWN_BACKUP_CODES]


@transaction.atomic
def ensure_demo_tenancy() -> list[DemoLogin]:
    """Create what is missing; return the logins whose secrets were just generated."""
    users = get_user_model().objects
    fresh: list[DemoLogin] = []
    superuser = users.filter(username=DEMO_SUPERUSER).first()
    if superuser is not None and not otp.has_confirmed_device(superuser):
        login = DemoLogin(DEMO_SUPERUSER, "staff")
        _second_factor(superuser, login)
        fresh.append(login)
    system = Actor.for_system()
    organization = Organization.objects.filter(name=DEMO_ORGANIZATION).first()
    if organization is None:
        organization = services.create_organization(actor=system, name=DEMO_ORGANIZATION)
    for username, role in DEMO_MEMBERS.items():
        if users.filter(username=username).exists():
            continue
        login = DemoLogin(username, role, password=secrets.token_urlsafe(12))
        user = users.create_user(username, f"{username}@localhost", login.password)
        Membership.objects.create(organization=organization, user=user, role=role)
        if role in OTP_REQUIRED_ROLES:
            _second_factor(user, login)
        fresh.append(login)
    # Paper accounts with keys that exist on the paper exchange: apps.trading.demo.
    return fresh
