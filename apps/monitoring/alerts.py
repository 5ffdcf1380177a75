"""raise_alert: the one way any part of Spotdesk tells humans something is wrong.

It records an `Alert` row and logs it; once the row commits, a task on the default
queue fans it out to the organization's notification routes (Telegram, Slack, Discord,
e-mail, signed webhooks). Context is redacted before it is stored.

The alert belongs to an organization when one is given (`organization=` an
Organization or its id) or can be derived from the context (`organization_id`, or
`account_id` of an exchange account); otherwise it is a platform alert.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder

from apps.core import correlation
from apps.core.errors import ValidationError
from apps.core.logging import get_logger
from apps.core.redaction import redact
from apps.dashboard.receivers import publish_alert

from .metrics import ALERTS_RAISED
from .models import Alert, Severity
from .notifications.fanout import schedule_fan_out

logger = get_logger(__name__)
_LOG_METHOD = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.ERROR: "error",
    Severity.CRITICAL: "critical",
}


def _jsonable(context: dict) -> dict:
    # Decimals, datetimes and UUIDs become strings: the row must round-trip exactly.
    return json.loads(json.dumps(redact(context), cls=DjangoJSONEncoder))


def _organization_id(organization, context: dict) -> int | None:
    if organization is not None:
        return getattr(organization, "pk", organization)
    if isinstance(context.get("organization_id"), int):
        return context["organization_id"]
    account_id = context.get("account_id")
    if isinstance(account_id, int):
        from apps.accounts.models import ExchangeAccount

        return (
            ExchangeAccount.objects.filter(pk=account_id)
            .values_list("organization_id", flat=True)
            .first()
        )
    return None


def raise_alert(severity: str, event: str, message: str, *, organization=None, **context) -> Alert:
    if severity not in Severity.values:
        raise ValidationError("severity", f"must be one of {', '.join(Severity.values)}")
    if not event:
        raise ValidationError("event", "must not be empty")
    alert = Alert.objects.create(
        organization_id=_organization_id(organization, context),
        severity=severity,
        event=event,
        message=redact(message),
        context=_jsonable(context),
        correlation_id=correlation.current() or "",
    )
    schedule_fan_out(alert.pk)
    publish_alert(alert)  # to the organization's live pages, after commit
    ALERTS_RAISED.labels(severity=severity, event=event).inc()
    getattr(logger, _LOG_METHOD[Severity(severity)])(
        "alert", alert_id=alert.pk, severity=severity, alert_event=event, message=message, **context
    )
    return alert
