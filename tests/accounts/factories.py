"""Test data for tenancy, custody and authentication tests (real models, real services)."""

import itertools
import secrets
import time

from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import services
from apps.accounts.actors import OTP_VERIFIED_AT_SESSION_KEY, Actor
from apps.accounts.models import Membership, Organization

PASSWORD = "a-long-test-password-42"
_counter = itertools.count(1)


def fake_api_key() -> str:
    return secrets.token_hex(32)[:8] + "ApiKey" + secrets.token_urlsafe(30).replace("-", "x")


def fake_secret() -> str:
    # Binance-shaped: 64 mixed-case alphanumerics, unique per call.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "Sk" + "".join(secrets.choice(alphabet) for _ in range(62))


def make_user(username: str | None = None, *, staff: bool = False, superuser: bool = False):
    username = username or f"user{next(_counter)}"
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username, f"{username}@example.com", PASSWORD)
    return users.create_user(username, f"{username}@example.com", PASSWORD, is_staff=staff)


def make_org(name: str | None = None) -> Organization:
    name = name or f"Org {next(_counter)}"
    return services.create_organization(actor=Actor.for_system(), name=name)


def member(organization: Organization, role: str, username: str | None = None):
    user = make_user(username)
    Membership.objects.create(organization=organization, user=user, role=role)
    return user


def verified(user) -> Actor:
    """An actor who entered a code just now (step-up satisfied)."""
    return Actor(user=user, otp_verified_at=time.time())


def unverified(user) -> Actor:
    return Actor(user=user, otp_verified_at=None)


def totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    """The current code; forgets the last used step and any throttling (django-otp slows
    down retries after a wrong code) so a test may verify again at once."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(value).zfill(device.digits)


def otp_login(client, user, *, device: TOTPDevice | None = None, fresh: bool = True):
    """Log `client` in as `user` with a verified second factor (like a real login)."""
    device = device or TOTPDevice.objects.filter(user=user).first() or totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[OTP_VERIFIED_AT_SESSION_KEY] = time.time() if fresh else time.time() - 3600
    session.save()
    return device


def make_account(organization, *, name=None, environment="paper", secret=None, api_key=None):
    admin = Membership.objects.filter(organization=organization, role="admin").first()
    actor = verified(admin.user) if admin else Actor.for_system()
    return services.create_exchange_account(
        actor=actor,
        organization=organization,
        name=name or f"account {next(_counter)}",
        environment=environment,
        api_key=api_key or fake_api_key(),
        secret=secret or fake_secret(),
    )
