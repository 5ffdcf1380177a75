"""Audit of authentication: logins, failures, lockouts, logouts and second-factor use.

Connected in AccountsConfig.ready(). Credentials never reach the trail: only the
attempted username is kept (Django already strips passwords from the signal).
"""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.audit.services import record_event

from .actors import OTP_VERIFIED_AT_SESSION_KEY


@receiver(user_logged_in, dispatch_uid="spotdesk_audit_login")
def audit_login(sender, request, user, **kwargs):
    device = getattr(user, "otp_device", None)
    if device is not None and request is not None:
        # django-otp binds the device to the session in its own receiver; the step-up
        # window starts with the code just entered.
        request.session[OTP_VERIFIED_AT_SESSION_KEY] = time.time()
    record_event(
        action="auth.login",
        actor=user,
        changes={"second_factor": device.__class__.__name__ if device else None},
    )


@receiver(user_login_failed, dispatch_uid="spotdesk_audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username", ""))[:150]
    record_event(
        action="auth.login_failed",
        actor_username=username,
        changes={"reason": (credentials or {}).get("spotdesk_reason", "credentials")},
    )


@receiver(user_logged_out, dispatch_uid="spotdesk_audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(action="auth.logout", actor=user)


@receiver(user_locked_out, dispatch_uid="spotdesk_audit_lockout")
def audit_lockout(sender, request, username, ip_address, **kwargs):
    record_event(
        action="auth.locked_out",
        actor_username=str(username or "")[:150],
        ip_address=ip_address,
        changes={"username": username, "ip_address": ip_address},
    )
