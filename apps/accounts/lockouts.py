"""Lifting axes lockouts: an audited action of platform staff."""

from axes.utils import reset
from django.db import transaction

from apps.audit.services import record_event
from apps.core.errors import PermissionDenied

from .actors import Actor


@transaction.atomic
def unlock(*, actor: Actor, attempts) -> int:
    """Reset the failure records of each (username, address) pair; one event per pair."""
    user = actor.user
    if not actor.system and not (user.is_staff and user.has_perm("axes.delete_accessattempt")):
        raise PermissionDenied("only staff who may delete access attempts can unlock")
    lifted = 0
    pairs = {(a.username, a.ip_address) for a in attempts}
    for username, ip_address in sorted(pairs, key=lambda p: (p[0] or "", p[1] or "")):
        removed = reset(ip=ip_address, username=username)
        record_event(
            action="auth.unlocked",
            actor=user,
            changes={"username": username, "ip_address": ip_address, "records": removed},
        )
        lifted += 1
    return lifted
