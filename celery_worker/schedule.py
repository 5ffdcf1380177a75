"""The beat schedule; django-celery-beat's DatabaseScheduler syncs it into the database."""

from django.conf import settings

QUEUES = ("execution", "default", "backtest")


def beat_schedule() -> dict:
    interval = float(settings.WORKER_HEARTBEAT_INTERVAL)
    schedule = {
        f"worker-heartbeat-{queue}": {
            "task": "apps.monitoring.tasks.worker_heartbeat",
            "schedule": interval,
            "kwargs": {"queue": queue},
            # A heartbeat nobody picked up within its interval is stale: drop it.
            "options": {"queue": queue, "expires": interval},
        }
        for queue in QUEUES
    }
    schedule["live-heartbeat"] = {
        "task": "apps.dashboard.tasks.broadcast_live_heartbeat",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    }
    return schedule
