"""Sending one delivery: claim it, send it, record the outcome, plan a retry.

`deliver` returns None when nothing more is to be done, or the number of seconds
after which the caller (the Celery task) must run it again: before its scheduled
time, or after a failure while attempts remain (exponential backoff with jitter,
or the receiver's Retry-After).
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.logging import get_logger

from .. import conf
from ..metrics import NOTIFICATIONS
from ..models import DeliveryStatus, NotificationDelivery
from . import channels, messages

logger = get_logger(__name__)
RUNNABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def backoff_seconds(attempt: int) -> float:
    """10 s, 20 s, 40 s … capped, ±20 % jitter so failed receivers aren't hit in step."""
    base = min(conf.retry_max_seconds(), conf.retry_base_seconds() * 2 ** max(0, attempt - 1))
    return base * random.uniform(0.8, 1.2)  # jitter, not cryptography


def _stuck(delivery, now) -> bool:
    # A worker that died mid-send leaves "sending"; a redelivered task may take it over.
    limit = timedelta(seconds=conf.request_timeout() + 60)
    return delivery.status == DeliveryStatus.SENDING and delivery.updated_at < now - limit


def _claim(delivery_id: int):
    """Lock the row and mark it sending; (delivery, None) or (None, seconds-to-wait)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            NotificationDelivery.objects.select_for_update(of=("self",))
            .select_related("route", "route__organization", "alert", "alert__organization")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or not (delivery.status in RUNNABLE or _stuck(delivery, now)):
            return None, None
        if delivery.scheduled_for and delivery.scheduled_for > now + timedelta(seconds=0.5):
            return None, (delivery.scheduled_for - now).total_seconds()
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.save(update_fields=["status", "attempts", "first_attempt_at", "updated_at"])
    delivery.refresh_from_db(fields=["count"])  # repeats that joined until the claim
    return delivery, None


def deliver(delivery_id: int) -> float | None:
    delivery, wait = _claim(delivery_id)
    if delivery is None:
        return wait
    route = delivery.route
    try:
        channels.send(route, messages.for_delivery(delivery))
    except channels.DeliveryError as exc:
        return _failed(delivery, exc)
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = timezone.now()
    delivery.last_error = ""
    delivery.save(update_fields=["status", "sent_at", "last_error", "updated_at"])
    NOTIFICATIONS.labels(channel=route.channel, outcome="sent").inc()
    return None


def _failed(delivery, exc: channels.DeliveryError) -> float | None:
    channel = delivery.route.channel
    delivery.last_error = exc.message[:500]
    if exc.permanent or delivery.attempts >= conf.max_attempts():
        delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["status", "last_error", "updated_at"])
        NOTIFICATIONS.labels(channel=channel, outcome="failed").inc()
        logger.warning(
            "notification failed", delivery_id=delivery.pk, channel=channel, error=exc.message
        )
        return None
    wait = max(exc.retry_after or 0.0, backoff_seconds(delivery.attempts))
    delivery.status = DeliveryStatus.RETRYING
    delivery.scheduled_for = timezone.now() + timedelta(seconds=wait)
    delivery.save(update_fields=["status", "last_error", "scheduled_for", "updated_at"])
    NOTIFICATIONS.labels(channel=channel, outcome="retry").inc()
    return wait


def send_test(route) -> NotificationDelivery:
    """Send a test message now (the admin's "send test"), recorded as a delivery."""
    delivery = NotificationDelivery.objects.create(
        route=route,
        alert=None,
        dedup_key=f"test:{timezone.now().timestamp():.6f}",
        status=DeliveryStatus.SENDING,
        attempts=1,
        first_attempt_at=timezone.now(),
    )
    try:
        channels.send(route, messages.sample_message(route, delivery_id=delivery.pk))
    except channels.DeliveryError as exc:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = exc.message[:500]
        NOTIFICATIONS.labels(channel=route.channel, outcome="failed").inc()
    else:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        NOTIFICATIONS.labels(channel=route.channel, outcome="sent").inc()
    delivery.save(update_fields=["status", "last_error", "sent_at", "updated_at"])
    return delivery


def overdue_deliveries(*, grace_seconds: float = 60.0) -> list[int]:
    """Deliveries whose task is evidently lost (broker flushed, worker killed before
    acknowledging): due for longer than the grace, or stuck in "sending"."""
    now = timezone.now()
    due = NotificationDelivery.objects.filter(
        status__in=RUNNABLE, scheduled_for__lt=now - timedelta(seconds=grace_seconds)
    )
    stuck = NotificationDelivery.objects.filter(
        status=DeliveryStatus.SENDING,
        updated_at__lt=now - timedelta(seconds=conf.request_timeout() + 60),
    )
    return list(due.values_list("pk", flat=True)[:500]) + list(
        stuck.values_list("pk", flat=True)[:500]
    )
