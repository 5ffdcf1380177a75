"""Monitoring tasks: thin, they take ids and call a service."""

from celery import shared_task

from .heartbeats import record_worker_heartbeat


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self, queue: str = "default") -> None:
    """Scheduled on every queue by beat; the worker that runs it records its liveness."""
    record_worker_heartbeat(hostname=self.request.hostname or "unknown", queue=queue)
