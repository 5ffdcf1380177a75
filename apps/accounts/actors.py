"""Who performs a service call, and how recently they proved their second factor.

Services take an `Actor` rather than a request: the admin, the API and tasks build
one, and the step-up rule is checked in one place whatever the entry point.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from apps.core.errors import PermissionDenied

# When the user last entered a valid TOTP or backup code (unix seconds, in the session).
OTP_VERIFIED_AT_SESSION_KEY = "spotdesk_otp_verified_at"


class StepUpRequired(PermissionDenied):
    """A sensitive action needs a second-factor code entered within the step-up window."""

    code = "step_up_required"


@dataclass(frozen=True)
class Actor:
    user: object | None
    otp_verified_at: float | None = None  # unix seconds
    system: bool = False  # management commands and internal jobs

    @classmethod
    def from_request(cls, request) -> "Actor":
        verified = request.session.get(OTP_VERIFIED_AT_SESSION_KEY)
        return cls(user=request.user, otp_verified_at=float(verified) if verified else None)

    @classmethod
    def for_system(cls) -> "Actor":
        return cls(user=None, system=True)

    @property
    def username(self) -> str:
        return self.user.get_username() if self.user is not None else "system"


def step_up_window() -> int:
    return int(getattr(settings, "SPOTDESK_STEP_UP_SECONDS", 300))


def step_up_fresh(verified_at: float | None, *, now: float | None = None) -> bool:
    if verified_at is None:
        return False
    return 0 <= (now or time.time()) - verified_at <= step_up_window()


def require_step_up(actor: Actor, *, what: str) -> None:
    if actor.system:
        return
    if not step_up_fresh(actor.otp_verified_at):
        minutes = step_up_window() // 60
        raise StepUpRequired(
            f"{what} needs a second-factor code entered within the last {minutes} minutes.",
        )


def verified_at_display(verified_at: float | None) -> str:
    if verified_at is None:
        return ""
    return datetime.fromtimestamp(verified_at, tz=UTC).isoformat()
