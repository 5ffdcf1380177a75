"""Worker signals: correlation ids per task, and system checks at worker start."""

import atexit

from celery import signals

from apps.core import correlation


@signals.task_prerun.connect
def bind_task_correlation(task_id=None, task=None, **kwargs):
    correlation.bind(correlation.new_correlation_id(task_id), task=getattr(task, "name", ""))


@signals.task_postrun.connect
def clear_task_correlation(**kwargs):
    correlation.clear()


@signals.worker_init.connect
@signals.beat_init.connect
def check_configuration(sender=None, **kwargs):
    from config.startup import run_system_checks_or_exit

    run_system_checks_or_exit("celery")


_beat_lease = []


@signals.beat_init.connect
def hold_beat_lease(sender=None, **kwargs):
    """One scheduler at a time (celery_worker/beat_leader.py)."""
    from django.conf import settings

    from apps.core.redis import get_redis

    from .beat_leader import acquire_beat_lease

    ttl = float(settings.BEAT_LEASE_TTL_SECONDS)
    lease = acquire_beat_lease(get_redis(), ttl=ttl, wait=ttl * 1.5)
    _beat_lease.append(lease)
    # A clean stop hands the lease over at once (a killed beat's expires after the TTL).
    atexit.register(lease.release)


# --- Metrics (apps/monitoring): per-process endpoints, task counters, beat liveness ---
_task_started: dict[str, float] = {}
_beat = {"hostname": "", "last_beat": 0.0}


@signals.worker_init.connect
def start_worker_metrics(sender=None, **kwargs):
    from apps.monitoring import conf, exporter

    exporter.clear_dead_process_files()  # before the pool forks its children
    exporter.start_configured_metrics_server(conf.worker_metrics_port())


@signals.worker_process_shutdown.connect
def forget_worker_process(pid=None, **kwargs):
    import os

    from apps.monitoring import exporter

    exporter.mark_process_dead(pid or os.getpid())


@signals.task_prerun.connect
def time_task(task_id=None, **kwargs):
    import time

    _task_started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def count_task(task_id=None, task=None, state=None, **kwargs):
    import time

    from apps.monitoring.metrics import CELERY_TASK_SECONDS, CELERY_TASKS

    name = getattr(task, "name", "unknown")
    outcome = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}.get(state, "other")
    CELERY_TASKS.labels(task=name, outcome=outcome).inc()
    started = _task_started.pop(task_id, None)
    if started is not None:
        CELERY_TASK_SECONDS.labels(task=name).observe(time.perf_counter() - started)


@signals.beat_init.connect
def start_beat_metrics(sender=None, **kwargs):
    import socket

    from apps.monitoring import conf, exporter

    _beat["hostname"] = f"beat@{socket.gethostname()}"
    exporter.start_configured_metrics_server(conf.worker_metrics_port())


@signals.before_task_publish.connect
def beat_published(sender=None, **kwargs):
    # Only in the beat process: each periodic task it sends proves the scheduler ticks.
    if not _beat["hostname"]:
        return
    import time

    from apps.monitoring.heartbeats import record_beat_heartbeat
    from apps.monitoring.metrics import BEAT_PUBLISHED

    BEAT_PUBLISHED.labels(task=str(sender)).inc()
    now = time.monotonic()
    if now - _beat["last_beat"] >= 1.0:
        _beat["last_beat"] = now
        try:
            record_beat_heartbeat(hostname=_beat["hostname"])
        except Exception:  # Redis down: the heartbeat's absence is the signal
            import logging

            logging.getLogger(__name__).warning("beat heartbeat not recorded", exc_info=True)
