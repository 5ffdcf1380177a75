"""Backtest tasks: thin, they take ids; routed to the `backtest` queue by module name."""

from celery import shared_task

from . import services


@shared_task(name="apps.backtest.tasks.run_backtest", acks_late=True)
def run_backtest_task(backtest_id: int) -> str | None:
    """Run one queued backtest (a finished one is left alone, so redelivery is safe)."""
    backtest = services.run_backtest(backtest_id)
    return backtest.status if backtest is not None else None
