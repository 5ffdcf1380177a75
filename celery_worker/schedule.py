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
    for environment in settings.EXCHANGE_ENVIRONMENTS_IN_USE:
        schedule.update(_exchange_upkeep(environment))
    schedule.update(_notification_upkeep())
    schedule["maintain-partitions"] = {
        # Create next months' Candle/Decision partitions, archive expired ones.
        "task": "apps.trading.tasks.maintain_partitions",
        "schedule": 6 * 3600.0,
        "options": {"expires": 3600.0},
    }
    schedule["reconcile-accounts"] = {
        # Exchange vs database for every followed account (docs/trading.md).
        "task": "apps.trading.reconcile_tasks.reconcile_all_accounts",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    }
    schedule["live-heartbeat"] = {
        "task": "apps.dashboard.tasks.broadcast_live_heartbeat",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    }
    return schedule


def _exchange_upkeep(environment: str) -> dict:
    """Clock offset, connectivity samples and exchangeInfo for one environment."""
    tasks = {
        "sync-exchange-time": ("apps.exchange.tasks.sync_exchange_time", 60.0),
        "sample-exchange-connectivity": ("apps.exchange.tasks.sample_exchange_connectivity", 30.0),
        "refresh-exchange-info": ("apps.exchange.tasks.refresh_exchange_info", 3600.0),
    }
    return {
        f"{name}-{environment}": {
            "task": task,
            "schedule": every,
            "kwargs": {"environment": environment},
            "options": {"expires": every},
        }
        for name, (task, every) in tasks.items()
    }


def _notification_upkeep() -> dict:
    """Monitoring upkeep: lost notification deliveries, stale-worker alerts."""
    return {
        "resend-overdue-notifications": {
            "task": "apps.monitoring.tasks.resend_overdue_notifications",
            "schedule": 60.0,
            "options": {"expires": 60.0},
        },
        "check-order-error-rates": {
            "task": "apps.monitoring.tasks.check_order_error_rates",
            "schedule": 300.0,
            "options": {"expires": 300.0},
        },
        "check-stale-workers": {
            "task": "apps.monitoring.tasks.check_stale_workers",
            "schedule": 60.0,
            "options": {"expires": 60.0},
        },
    }
