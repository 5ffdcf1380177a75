from celery import shared_task

from .export_tasks import build_export  # noqa: F401
from .live import publish_heartbeat


@shared_task(ignore_result=True)
def broadcast_live_heartbeat() -> None:
    publish_heartbeat()
