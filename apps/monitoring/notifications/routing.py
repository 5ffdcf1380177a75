"""From an alert to deliveries: which routes want it, and grouping of repeats.

Per route and alert key (event + organization) there is at most one open (`pending`)
delivery, enforced by a partial unique index: a repeat while it is open joins it
(`count` + 1). A new delivery is scheduled after a short grouping delay, and never
sooner than the rate-limit window after the key's previous message, so a storm
becomes one message now and one summary with the count per window.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import conf
from ..metrics import NOTIFICATIONS_GROUPED
from ..models import SEVERITY_RANK, DeliveryStatus, NotificationDelivery, NotificationRoute

# Events a route receives only when it names them exactly: one alert per fill would
# flood every catch-all route.
OPT_IN_EVENTS = frozenset({"trading_fill"})


def event_matches(patterns: list, event: str) -> bool:
    if event in OPT_IN_EVENTS:
        return event in [str(p).strip() for p in patterns or []]
    if not patterns:
        return True
    for pattern in patterns:
        pattern = str(pattern).strip()
        if pattern.endswith("*") and event.startswith(pattern[:-1]):
            return True
        if pattern == event:
            return True
    return False


def matching_routes(alert) -> list[NotificationRoute]:
    routes = NotificationRoute.objects.filter(enabled=True).filter(
        Q(organization__isnull=True) | Q(organization_id=alert.organization_id)
    )
    rank = SEVERITY_RANK[alert.severity]
    return [
        route
        for route in routes
        if rank >= SEVERITY_RANK[route.min_severity] and event_matches(route.events, alert.event)
    ]


def dedup_key(alert) -> str:
    return f"{alert.event}:{alert.organization_id or 'platform'}"[:200]


def _earliest_send(route, key: str):
    now = timezone.now()
    earliest = now + timedelta(seconds=conf.group_seconds())
    previous = (
        NotificationDelivery.objects.filter(route=route, dedup_key=key)
        .exclude(first_attempt_at=None)
        .order_by("-first_attempt_at")
        .values_list("first_attempt_at", flat=True)
        .first()
    )
    if previous is not None:
        earliest = max(earliest, previous + timedelta(seconds=conf.rate_limit_seconds()))
    return earliest


def enqueue(route, alert) -> tuple[NotificationDelivery, bool]:
    """Join the open delivery for this key, or open a new one. Returns (delivery, new)."""
    key = dedup_key(alert)
    for _ in range(5):
        with transaction.atomic():
            open_delivery = (
                NotificationDelivery.objects.select_for_update()
                .filter(route=route, dedup_key=key, status=DeliveryStatus.PENDING)
                .first()
            )
            if open_delivery is not None:
                NotificationDelivery.objects.filter(pk=open_delivery.pk).update(
                    count=F("count") + 1
                )
                NOTIFICATIONS_GROUPED.labels(channel=route.channel).inc()
                return open_delivery, False
            try:
                with transaction.atomic():
                    delivery = NotificationDelivery.objects.create(
                        route=route,
                        alert=alert,
                        dedup_key=key,
                        scheduled_for=_earliest_send(route, key),
                    )
            except IntegrityError:
                continue  # another process opened it meanwhile: join that one
            return delivery, True
    raise RuntimeError(f"could not open or join a delivery for {key}")
