"""Tasks of the controls: thin, by id, idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def enforce_kill_switch_task(switch_id: int) -> dict:
    """Cancel resting entries (and flatten) under an engaged switch; engaging with
    `enforce=False` then enqueuing this keeps a global switch off the web request.
    A released switch is left alone; running twice cancels nothing twice."""
    from .controls import enforce_kill_switch
    from .models import KillSwitch

    switch = KillSwitch.objects.filter(pk=switch_id, released_at__isnull=True).first()
    if switch is None:
        return {"skipped": "released or unknown"}
    report = enforce_kill_switch(switch)
    return {"canceled": len(report.canceled), "exits": len(report.exits),
            "failures": len(report.failures)}  # fmt: skip
