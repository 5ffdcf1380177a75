"""raise_alert: the one way any part of Spotdesk tells humans something is wrong.

It records an `Alert` row and logs it; a later issue fans alerts out to Telegram,
Slack, e-mail and webhooks from here. Context is redacted before it is stored.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder

from apps.core import correlation
from apps.core.errors import ValidationError
from apps.core.logging import get_logger
from apps.core.redaction import redact

from .metrics import ALERTS_RAISED
from .models import Alert, Severity

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


def raise_alert(severity: str, event: str, message: str, **context) -> Alert:
    if severity not in Severity.values:
        raise ValidationError("severity", f"must be one of {', '.join(Severity.values)}")
    if not event:
        raise ValidationError("event", "must not be empty")
    alert = Alert.objects.create(
        severity=severity,
        event=event,
        message=redact(message),
        context=_jsonable(context),
        correlation_id=correlation.current() or "",
    )
    ALERTS_RAISED.labels(severity=severity, event=event).inc()
    getattr(logger, _LOG_METHOD[Severity(severity)])(
        "alert", alert_id=alert.pk, severity=severity, alert_event=event, message=message, **context
    )
    return alert
