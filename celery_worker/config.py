"""Celery's configuration: the fixed policy here, tunable values from Django's settings."""

from django.conf import settings
from kombu import Exchange, Queue

from .routing import route_by_module
from .schedule import beat_schedule

broker_url = settings.CELERY_BROKER_URL
broker_connection_retry_on_startup = True
# A task of a killed worker comes back after this many seconds; it must exceed the
# longest task (the hard time limit) or a running task would be delivered twice.
broker_transport_options = {"visibility_timeout": settings.CELERY_BROKER_VISIBILITY_TIMEOUT}
result_backend = None
task_ignore_result = True

# JSON only: no pickle, so a message can never execute code, and task arguments stay
# readable (and therefore must never contain secrets).
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
event_serializer = "json"

# At-least-once: acknowledge after the task ran, redeliver if the worker died.
# Tasks are idempotent by (account, trigger), so a redelivery never doubles an effect.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_soft_time_limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
task_time_limit = settings.CELERY_TASK_TIME_LIMIT

default_exchange = Exchange("spotdesk", type="direct")
task_queues = (
    Queue("execution", default_exchange, routing_key="execution"),
    Queue("default", default_exchange, routing_key="default"),
    Queue("backtest", default_exchange, routing_key="backtest"),
)
task_default_queue = "default"
task_default_exchange = "spotdesk"
task_default_routing_key = "default"
task_routes = (route_by_module,)
task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER

beat_scheduler = "django_celery_beat.schedulers:DatabaseScheduler"
beat_schedule = beat_schedule()

worker_hijack_root_logger = False  # Django's LOGGING (JSON, redaction) stays in charge
worker_send_task_events = True
task_send_sent_event = True
timezone = "UTC"
enable_utc = True
