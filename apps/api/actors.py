"""The service `Actor` behind an API request.

A session carries the time of its last second-factor code. A token carries none: a
call that needs step-up sends a current code in the `X-OTP-Code` header.
"""

import time

from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts import otp
from apps.accounts.actors import Actor
from apps.audit.services import record_event

from .models import ApiToken

OTP_HEADER = "HTTP_X_OTP_CODE"


def actor_for(request) -> Actor:
    if not isinstance(request.auth, ApiToken):
        return Actor.from_request(request)
    code = request.META.get(OTP_HEADER, "")
    if not code:
        return Actor(user=request.user)
    if otp.verify_code(request.user, code) is None:
        record_event(action="auth.step_up_failed", actor=request.user, changes={"via": "token"})
        raise AuthenticationFailed(_("The X-OTP-Code header holds no valid code."))
    record_event(action="auth.step_up", actor=request.user, changes={"via": "token"})
    return Actor(user=request.user, otp_verified_at=time.time())
