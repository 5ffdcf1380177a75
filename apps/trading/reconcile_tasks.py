"""Beat tasks of reconciliation: thin, taking ids, safe to repeat."""

from __future__ import annotations

from celery import shared_task

from apps.core.logging import get_logger

logger = get_logger(__name__)


@shared_task(ignore_result=True)
def reconcile_all_accounts() -> int:
    """Enqueue one reconciliation per followed account; returns how many."""
    from .reconciliation import followed_account_ids

    account_ids = followed_account_ids()
    for account_id in account_ids:
        reconcile_account_task.delay(account_id)
    return len(account_ids)


@shared_task(ignore_result=True)
def reconcile_account_task(account_id: int, trigger: str = "schedule") -> str:
    """Reconcile one account under its lock; a busy account is left to the next run."""
    from .locks import AccountBusy
    from .reconciliation import run_reconciliation

    try:
        return run_reconciliation(account_id, trigger=trigger).status
    except AccountBusy:
        logger.info("reconcile_skipped_busy", account_id=account_id)
        return "busy"
