"""Reads for the API that no other app offers yet, always scoped to the user."""

from django.db.models import QuerySet

from apps.accounts.roles import Action
from apps.accounts.scoping import audit_organization_ids, has_cross_organization_access
from apps.audit.models import AuditEvent
from apps.monitoring.models import Alert
from apps.strategies.selectors import risk_profiles_for  # noqa: F401  (the API's reads)


def may_read_audit(user) -> bool:
    scope = audit_organization_ids(user)
    return scope is None or scope.exists()


def audit_events_for(user) -> QuerySet:
    return AuditEvent.objects.for_user(user)


def alerts_are_scoped() -> bool:
    return hasattr(Alert.objects, "for_user")


def may_read_alerts(user) -> bool:
    """Scoped alerts: any member (rows are filtered); platform-wide alerts: staff who
    may view alerts across organizations."""
    if alerts_are_scoped():
        return True
    return has_cross_organization_access(user, Action.VIEW) and user.has_perm(
        "monitoring.view_alert"
    )


def alerts_for(user) -> QuerySet:
    if alerts_are_scoped():
        return Alert.objects.for_user(user, Action.VIEW)
    return Alert.objects.all() if may_read_alerts(user) else Alert.objects.none()
