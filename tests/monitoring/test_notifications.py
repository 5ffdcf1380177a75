"""Notifications: every channel against a loopback receiver, grouping, retries and
the signed webhook, driven through the same services the Celery tasks call."""

import time

import pytest
from django.core import mail

from apps.accounts.actors import Actor
from apps.core.crypto.fields import SealedSecret
from apps.monitoring.alerts import raise_alert
from apps.monitoring.models import DeliveryStatus, NotificationDelivery, NotificationRoute
from apps.monitoring.notifications import signing
from apps.monitoring.notifications.delivery import deliver, send_test
from apps.monitoring.notifications.fanout import fan_out
from apps.monitoring.notifications.routing import matching_routes
from apps.monitoring.notifications.services import save_route
from tests.accounts.factories import make_account, make_org

pytestmark = pytest.mark.django_db

BOT_TOKEN = "123456789:AAH-test-bot-token-value"


def route(organization, channel, *, secret=None, target=None, **fields):
    return save_route(
        actor=Actor.for_system(),
        route=NotificationRoute(),
        data={
            "organization": organization,
            "name": f"{channel} route",
            "channel": channel,
            "target": target or {},
            **fields,
        },
        secret=secret,
    )


def alert_for(organization, event="drawdown_limit", severity="error", message="Drawdown 12%"):
    return raise_alert(severity, event, message, organization=organization)


def run_due(delivery_id, *, limit=20):
    """What the Celery task does: deliver, and run again when told to (bounded)."""
    for _ in range(limit):
        wait = deliver(delivery_id)
        if wait is None:
            return NotificationDelivery.objects.get(pk=delivery_id)
        time.sleep(min(wait, 1.0))
    raise AssertionError("delivery did not finish")


def test_telegram_send_test_speaks_the_bot_api(notification_settings, receiver):
    org = make_org()
    r = route(org, "telegram", secret=BOT_TOKEN, target={"chat_id": "-1001"})
    delivery = send_test(r)
    assert delivery.status == DeliveryStatus.SENT
    (request,) = receiver.requests
    assert request.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert request.json()["chat_id"] == "-1001"
    assert "telegram route" in request.json()["text"]


def test_telegram_failure_never_stores_the_token(notification_settings, receiver):
    org = make_org()
    r = route(org, "telegram", secret=BOT_TOKEN, target={"chat_id": "-1001"})
    receiver.script = [401]
    delivery = send_test(r)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "telegram: HTTP 401"
    assert BOT_TOKEN not in delivery.last_error
    stored = NotificationRoute.objects.get(pk=r.pk)
    assert isinstance(stored.secret, SealedSecret)
    assert BOT_TOKEN not in str(stored.secret)
    assert BOT_TOKEN not in stored.secret_mask


def test_slack_alert_is_routed_and_delivered(notification_settings, receiver):
    org = make_org()
    r = route(org, "slack", secret=f"{receiver.url}/services/T000/B000/XXXX")
    alert = alert_for(org, message="Drawdown at 12% on main")
    assert fan_out(alert.pk) == 1
    delivery = run_due(NotificationDelivery.objects.get(route=r).pk)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    (request,) = receiver.requests
    assert request.path == "/services/T000/B000/XXXX"
    text = request.json()["text"]
    assert "Drawdown at 12% on main" in text
    assert "ERROR drawdown_limit" in text


def test_discord_shape(notification_settings, receiver):
    org = make_org()
    route(org, "discord", secret=f"{receiver.url}/api/webhooks/1/abc")
    delivery_id = fan_out(alert_for(org).pk) and NotificationDelivery.objects.get().pk
    run_due(delivery_id)
    body = receiver.requests[0].json()
    assert "Drawdown 12%" in body["content"]
    assert body["allowed_mentions"] == {"parse": []}


def test_email_channel(notification_settings, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org = make_org()
    route(org, "email", target={"recipients": ["ops@example.com"]})
    fan_out(alert_for(org, severity="critical", event="kill_switch").pk)
    run_due(NotificationDelivery.objects.get().pk)
    (message,) = mail.outbox
    assert message.to == ["ops@example.com"]
    assert "CRITICAL kill_switch" in message.subject


def test_signed_webhook_verifies_and_tampering_does_not(notification_settings, receiver):
    org = make_org()
    key = "whsec-test-signing-key-0123456789"
    route(org, "webhook", secret=key, target={"url": f"{receiver.url}/hooks/spotdesk"})
    alert = alert_for(org)
    fan_out(alert.pk)
    delivery = run_due(NotificationDelivery.objects.get().pk)
    (request,) = receiver.requests
    header = request.headers[signing.SIGNATURE_HEADER.lower()]
    assert request.headers[signing.DELIVERY_HEADER.lower()] == str(delivery.pk)
    signing.verify(key, request.body, header)  # raises if wrong
    assert request.json()["alert_id"] == alert.pk
    with pytest.raises(signing.SignatureError):
        signing.verify(key, request.body.replace(b"12%", b"99%"), header)
    with pytest.raises(signing.SignatureError):
        signing.verify("another-key-entirely", request.body, header)
    with pytest.raises(signing.SignatureError):
        signing.verify(key, request.body, header, now=time.time() + 3600)


def test_a_storm_becomes_one_message_with_a_count(notification_settings, receiver):
    org = make_org()
    r = route(org, "slack", secret=f"{receiver.url}/s")
    for _ in range(5):
        fan_out(alert_for(org, event="exchange_429").pk)
    pending = NotificationDelivery.objects.get(route=r)
    assert pending.count == 5
    run_due(pending.pk)
    assert len(receiver.requests) == 1
    assert "5 alerts of this kind" in receiver.requests[0].json()["text"]

    # Within the rate-limit window, further repeats wait for the window's end.
    fan_out(alert_for(org, event="exchange_429").pk)
    fan_out(alert_for(org, event="exchange_429").pk)
    follow_up = NotificationDelivery.objects.get(route=r, status=DeliveryStatus.PENDING)
    assert follow_up.count == 2
    wait = deliver(follow_up.pk)
    assert wait is not None
    assert 250 < wait <= 300
    assert len(receiver.requests) == 1
    # Another event is its own message, at once.
    fan_out(alert_for(org, event="circuit_open").pk)
    other = NotificationDelivery.objects.get(route=r, dedup_key__startswith="circuit_open")
    run_due(other.pk)
    assert len(receiver.requests) == 2


def test_retries_with_backoff_until_the_receiver_accepts(notification_settings, receiver):
    org = make_org()
    r = route(org, "slack", secret=f"{receiver.url}/s")
    receiver.script = [500, 503]
    fan_out(alert_for(org).pk)
    delivery_id = NotificationDelivery.objects.get(route=r).pk
    wait = deliver(delivery_id)
    first = NotificationDelivery.objects.get(pk=delivery_id)
    assert first.status == DeliveryStatus.RETRYING
    assert first.last_error == "slack: HTTP 500"
    assert 0 < wait <= 0.2 * 1.2
    delivery = run_due(delivery_id)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    assert delivery.last_error == ""
    assert len(receiver.requests) == 3


def test_gives_up_after_the_last_attempt(notification_settings, receiver):
    org = make_org()
    route(org, "slack", secret=f"{receiver.url}/s")
    receiver.script = [500, 500, 500, 500]
    fan_out(alert_for(org).pk)
    delivery = run_due(NotificationDelivery.objects.get().pk)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert len(receiver.requests) == 3


def test_telegram_retry_after_is_honoured(notification_settings, receiver):
    org = make_org()
    route(org, "telegram", secret=BOT_TOKEN, target={"chat_id": "1"})
    receiver.script = [429]
    receiver.retry_after = 7
    fan_out(alert_for(org).pk)
    wait = deliver(NotificationDelivery.objects.get().pk)
    assert wait == 7


def test_routes_filter_by_organization_severity_and_event(notification_settings, receiver):
    org, other = make_org(), make_org()
    everything = route(org, "slack", secret=f"{receiver.url}/a", min_severity="info")
    critical_only = route(org, "slack", secret=f"{receiver.url}/b", min_severity="critical")
    exchange_only = route(
        org, "slack", secret=f"{receiver.url}/c", min_severity="info", events=["exchange_*"]
    )
    foreign = route(other, "slack", secret=f"{receiver.url}/d", min_severity="info")
    platform = route(None, "slack", secret=f"{receiver.url}/e", min_severity="info")

    def targets(alert):
        return {r.pk for r in matching_routes(alert)}

    assert targets(alert_for(org, severity="error", event="drawdown_limit")) == {
        everything.pk,
        platform.pk,
    }
    assert targets(alert_for(org, severity="critical", event="exchange_ip_banned")) == {
        everything.pk,
        critical_only.pk,
        exchange_only.pk,
        platform.pk,
    }
    assert foreign.pk not in targets(alert_for(org, severity="critical"))
    assert targets(raise_alert("warning", "worker_stale", "gone")) == {platform.pk}


def test_alert_takes_its_organization_from_the_account(notification_settings):
    org = make_org()
    account = make_account(org)
    alert = raise_alert("warning", "drawdown_near", "close", account_id=account.pk)
    assert alert.organization_id == org.pk
    assert raise_alert("info", "x", "y").organization_id is None


def test_route_validation_names_the_field(notification_settings):
    from apps.core.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        route(make_org(), "telegram", secret=BOT_TOKEN, target={})
    assert caught.value.field == "target"
    with pytest.raises(ValidationError) as caught:
        route(make_org(), "slack")
    assert caught.value.field == "secret"
    with pytest.raises(ValidationError) as caught:
        route(make_org(), "webhook", secret="k" * 20, target={"url": "ftp://x"})
    assert caught.value.field == "target"
    assert NotificationRoute.objects.count() == 0


def test_lost_deliveries_are_found_for_resending(notification_settings, receiver):
    from datetime import timedelta

    from django.utils import timezone

    from apps.monitoring.notifications.delivery import overdue_deliveries

    org = make_org()
    r = route(org, "slack", secret=f"{receiver.url}/s")
    fan_out(alert_for(org, event="lost").pk)
    fan_out(alert_for(org, event="fresh").pk)
    lost = NotificationDelivery.objects.get(route=r, dedup_key__startswith="lost")
    NotificationDelivery.objects.filter(pk=lost.pk).update(
        scheduled_for=timezone.now() - timedelta(minutes=5)
    )
    assert overdue_deliveries() == [lost.pk]
    run_due(lost.pk)
    assert overdue_deliveries() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/",
        "http://localhost/hook",
    ],
)
def test_organization_webhooks_may_not_aim_at_internal_addresses(notification_settings, url):
    from apps.core.errors import ValidationError

    notification_settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ValidationError) as caught:
        route(make_org(), "webhook", secret="k" * 20, target={"url": url})
    assert caught.value.field == "target"
    with pytest.raises(ValidationError):
        route(make_org(), "slack", secret=url)
    assert NotificationRoute.objects.count() == 0
    # Platform staff may route platform alerts to an internal receiver.
    assert route(None, "webhook", secret="k" * 20, target={"url": url}).pk
