"""The bridge from a committed Alert row to the delivery tasks."""

from django.db import transaction

from apps.core.logging import get_logger

from ..models import Alert
from . import routing

logger = get_logger(__name__)
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}


def schedule_fan_out(alert_id: int) -> None:
    """After the alert's transaction commits, hand it to a worker (default queue).
    A broker outage must never make raise_alert fail: it is logged instead."""

    def publish():
        from ..tasks import fan_out_alert

        try:
            fan_out_alert.apply_async(args=[alert_id], retry=True, retry_policy=_PUBLISH_RETRY)
        except Exception:
            logger.exception("could not queue the notifications of an alert", alert_id=alert_id)

    transaction.on_commit(publish)


def fan_out(alert_id: int) -> int:
    """Open or join deliveries for the alert; returns how many new messages were opened."""
    alert = Alert.objects.select_related("organization").filter(pk=alert_id).first()
    if alert is None:
        return 0
    opened = 0
    for route in routing.matching_routes(alert):
        delivery, new = routing.enqueue(route, alert)
        if new:
            opened += 1
            _schedule_delivery(delivery)
    return opened


def _schedule_delivery(delivery) -> None:
    from ..tasks import deliver_notification

    eta = delivery.scheduled_for
    transaction.on_commit(lambda: deliver_notification.apply_async(args=[delivery.pk], eta=eta))
