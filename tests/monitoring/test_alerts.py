from decimal import Decimal

import pytest

from apps.core.errors import ValidationError
from apps.core.redaction import REDACTED
from apps.monitoring.alerts import raise_alert
from apps.monitoring.models import Alert


@pytest.mark.django_db
def test_raise_alert_records_an_alert_with_json_safe_context():
    alert = raise_alert(
        "warning", "drawdown.near_limit", "Drawdown at 12%", drawdown=Decimal("0.12")
    )
    stored = Alert.objects.get(pk=alert.pk)
    assert stored.severity == "warning"
    assert stored.event == "drawdown.near_limit"
    assert stored.message == "Drawdown at 12%"
    assert stored.context == {"drawdown": "0.12"}


@pytest.mark.django_db
def test_raise_alert_never_stores_secrets():
    alert = raise_alert("error", "exchange.auth_failed", "key rejected", api_secret="s3cr3t-value")
    assert Alert.objects.get(pk=alert.pk).context["api_secret"] == REDACTED


@pytest.mark.django_db
def test_raise_alert_rejects_unknown_severity_and_changes_nothing():
    with pytest.raises(ValidationError) as caught:
        raise_alert("panic", "x", "y")
    assert caught.value.field == "severity"
    assert Alert.objects.count() == 0
