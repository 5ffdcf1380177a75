"""Worker signals: correlation ids per task, and system checks at worker start."""

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
