"""The per-candle group task (queue `execution`): thin, ids and plain values only,
idempotent per (account, config, trigger) through the trigger guard."""

from __future__ import annotations

from celery import shared_task

from .. import conf


@shared_task(bind=True, acks_late=True, max_retries=5, ignore_result=True)
def run_cycle_group(
    self, environment: str, symbol: str, interval: str, open_time_ms: int, config_ids: list[int]
) -> dict:
    """Compute the group's signal once and evaluate every config in it. Configs whose
    account was busy (or that failed before finishing) are retried alone; the trigger
    guard refuses them once the candle is too old."""
    from .group import run_group

    report = run_group(
        environment=environment,
        symbol=symbol,
        interval=interval,
        open_time_ms=open_time_ms,
        config_ids=config_ids,
    )
    if report.retry and self.request.retries < self.max_retries:
        raise self.retry(
            args=(environment, symbol, interval, open_time_ms, report.retry),
            countdown=conf.cycle_busy_retry_seconds(),
        )
    return report.as_dict()
