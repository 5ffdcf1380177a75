"""Live events of the layers below trading: alerts (`raise_alert` calls
`publish_alert`) and account status changes (a receiver of
`apps.accounts.services.account_status_changed`, connected in `apps.py`)."""

from __future__ import annotations

from .events import publish_after_commit


def publish_alert(alert) -> None:
    account_id = alert.context.get("account_id") if isinstance(alert.context, dict) else None
    if alert.organization_id is None:
        return  # a platform alert: staff see it on /status, no member group gets it
    publish_after_commit(
        "alert",
        account_id=account_id if isinstance(account_id, int) else None,
        organization_id=alert.organization_id,
        data={
            "id": alert.pk,
            "severity": alert.severity,
            "event": alert.event,
            "message": alert.message,
            "created_at": alert.created_at.isoformat(),
        },
    )


def account_status_changed(sender, *, account, before, after, action, **kwargs) -> None:
    publish_after_commit(
        "account_status",
        account_id=account.pk,
        organization_id=account.organization_id,
        data={"status": after, "before": before, "action": action},
    )
