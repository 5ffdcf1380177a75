"""Monitoring tasks: thin, they take ids and call a service."""

from celery import shared_task

from .heartbeats import record_worker_heartbeat


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self, queue: str = "default") -> None:
    """Scheduled on every queue by beat; the worker that runs it records its liveness."""
    record_worker_heartbeat(hostname=self.request.hostname or "unknown", queue=queue)


@shared_task(ignore_result=True)
def fan_out_alert(alert_id: int) -> None:
    """Open or join a delivery on every route that wants this alert."""
    from .notifications.fanout import fan_out

    fan_out(alert_id)


@shared_task(ignore_result=True)
def deliver_notification(delivery_id: int) -> None:
    from .notifications.delivery import deliver

    again_in = deliver(delivery_id)
    if again_in is not None:
        deliver_notification.apply_async(args=[delivery_id], countdown=max(0.0, again_in))


@shared_task(ignore_result=True)
def resend_overdue_notifications() -> None:
    """Beat's safety net: re-queue deliveries whose task was lost (idempotent: a
    delivery is claimed under a row lock, so a duplicate task sends nothing)."""
    from .notifications.delivery import overdue_deliveries

    for delivery_id in overdue_deliveries():
        deliver_notification.apply_async(args=[delivery_id])


@shared_task(ignore_result=True)
def check_stale_workers() -> None:
    from .watchdog import alert_stale_workers

    alert_stale_workers()
