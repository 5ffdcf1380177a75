"""Second factor: TOTP devices and static backup codes (django-otp), and who needs them.

TOTP is required for staff and for members whose role can move money; viewers may
enrol. `otp_satisfied` is the rule the login, the admin and the WebSocket consumers
all apply.
"""

import secrets
import time

from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.services import record_event

from .actors import OTP_VERIFIED_AT_SESSION_KEY
from .roles import OTP_REQUIRED_ROLES

TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"
BACKUP_CODE_COUNT = 10


def user_requires_otp(user) -> bool:
    if user.is_staff or user.is_superuser:
        return True
    return user.memberships.filter(role__in=OTP_REQUIRED_ROLES).exists()


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_device(user, session) -> Device | None:
    """The confirmed device this session was verified with, if it belongs to `user`."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return None
    device = Device.from_persistent_id(persistent_id)
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device


def otp_satisfied(user, session) -> bool:
    """Verified in this session, or not required and not enrolled."""
    if session_device(user, session) is not None:
        return True
    return not user_requires_otp(user) and not has_confirmed_device(user)


def verify_code(user, code: str) -> Device | None:
    """The device that accepts `code`: the authenticator first, then a backup code."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        return None
    devices: list[Device] = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    devices += list(StaticDevice.objects.filter(user=user, confirmed=True))
    for device in devices:
        with transaction.atomic():
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            allowed, _extra = locked.verify_is_allowed()
            if allowed and locked.verify_token(code):
                return locked
    return None


def mark_verified(request, device: Device) -> None:
    """Bind the device to the session and start the step-up window."""
    otp_login(request, device)
    request.session[OTP_VERIFIED_AT_SESSION_KEY] = time.time()


def start_totp_enrolment(user) -> TOTPDevice:
    """An unconfirmed authenticator for `user` (reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm_totp_enrolment(user, device: TOTPDevice, code: str) -> bool:
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token((code or "").strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_event(action="auth.otp_enrolled", actor=user, changes={"device": "totp"})
    return True


@transaction.atomic
def issue_backup_codes(user, *, count: int = BACKUP_CODE_COUNT) -> list[str]:
    """Replace the user's backup codes; the new ones are returned once, never stored plain
    anywhere else."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [secrets.token_hex(4) for _ in range(count)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    record_event(action="auth.backup_codes_issued", actor=user, changes={"count": count})
    return codes


def provision_totp(user) -> tuple[TOTPDevice, str]:
    """A confirmed authenticator at once (demo and ops bootstrap): device and its URI."""
    device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
    record_event(action="auth.otp_enrolled", actor=user, changes={"device": "totp"})
    return device, device.config_url
