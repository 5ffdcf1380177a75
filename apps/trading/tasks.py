"""Beat tasks of the trading core: thin, idempotent, calling services."""

from __future__ import annotations

from celery import shared_task

from .controls_tasks import enforce_kill_switch_task  # noqa: F401
from .cycle.tasks import run_cycle_group  # noqa: F401  (the per-candle cycle)
from .reconcile_tasks import reconcile_account_task, reconcile_all_accounts  # noqa: F401
from .webhook_signals import evaluate_webhook_signal_task  # noqa: F401


# Housekeeping, not trading: route it to `default` (celery_worker/routing.py) so a
# long archive never delays a cycle on `execution`.
@shared_task(ignore_result=True)
def maintain_partitions() -> dict:
    """Create upcoming monthly partitions and archive the months past retention.
    Safe to run at any time and more than once; one run at a time (Redis lock)."""
    from pathlib import Path

    from apps.core.redis import get_redis
    from apps.marketdata import conf as marketdata_conf

    from .partitions import archive_expired, ensure_ahead

    redis = get_redis()
    if not redis.set("trading:lock:maintain_partitions", "1", nx=True, ex=3600):
        return {"skipped": "another run holds the lock"}
    try:
        created = ensure_ahead()
        archived = archive_expired(directory=Path(marketdata_conf.archive_dir()))
    finally:
        redis.delete("trading:lock:maintain_partitions")
    return {"created": created, "archived": archived}
