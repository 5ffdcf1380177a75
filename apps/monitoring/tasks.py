"""Monitoring tasks: thin, they take ids and call a service."""

from celery import shared_task

from .heartbeats import record_worker_heartbeat


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self, queue: str = "default") -> None:
    """Scheduled on every queue by beat; the worker that runs it records its liveness."""
    hostname = self.request.hostname or "unknown"
    record_worker_heartbeat(hostname=hostname, queue=queue)
    from apps.core.redis import get_redis

    from .health_alerts import check_process_memory

    check_process_memory(hostname=hostname, redis_client=get_redis())


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


@shared_task(ignore_result=True)
def check_order_error_rates() -> list[int]:
    """Beat: alert accounts whose orders of the last hour failed too often."""
    from .trading_alerts import check_order_error_rates as check

    return check()
