"""Routes in the ops console: created through the service, secret never shown,
"send test" delivers to the loopback receiver and records the delivery."""

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.monitoring.models import DeliveryStatus, NotificationDelivery, NotificationRoute
from tests.accounts.factories import make_org, make_user, member, otp_login

pytestmark = pytest.mark.django_db
BOT_TOKEN = "987654321:AAF-admin-test-token-value"


@pytest.fixture
def org_admin_client(client):
    org = make_org()
    user = member(org, "admin")
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="monitoring"))
    otp_login(client, user)
    client.organization = org
    return client


def test_add_route_in_admin_encrypts_the_secret_and_audits(
    org_admin_client, notification_settings, receiver
):
    org = org_admin_client.organization
    response = org_admin_client.post(
        reverse("admin:monitoring_notificationroute_add"),
        {
            "organization": org.pk,
            "name": "ops chat",
            "channel": "telegram",
            "min_severity": "warning",
            "events_text": "exchange_*, kill_switch",
            "target": '{"chat_id": "-42"}',
            "new_secret": BOT_TOKEN,
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = NotificationRoute.objects.get(name="ops chat")
    assert saved.events == ["exchange_*", "kill_switch"]
    assert saved.secret.reveal() == BOT_TOKEN
    assert AuditEvent.objects.filter(
        action="notification_route.created", organization_id=org.pk
    ).exists()
    page = org_admin_client.get(
        reverse("admin:monitoring_notificationroute_change", args=[saved.pk])
    )
    assert page.status_code == 200
    assert BOT_TOKEN not in page.content.decode()
    assert saved.secret_mask in page.content.decode()


def test_send_test_action_delivers_and_records(org_admin_client, notification_settings, receiver):
    org = org_admin_client.organization
    from apps.accounts.actors import Actor
    from apps.monitoring.notifications.services import save_route

    saved = save_route(
        actor=Actor.for_system(),
        route=NotificationRoute(),
        data={"organization": org, "name": "slack ops", "channel": "slack", "target": {}},
        secret=f"{receiver.url}/services/T/B/C",
    )
    response = org_admin_client.post(
        reverse("admin:monitoring_notificationroute_changelist"),
        {"action": "send_test_message", "_selected_action": [saved.pk]},
        follow=True,
    )
    assert "test message sent" in response.content.decode()
    assert len(receiver.requests) == 1
    delivery = NotificationDelivery.objects.get(route=saved)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.alert is None
    listing = org_admin_client.get(reverse("admin:monitoring_notificationdelivery_changelist"))
    assert "slack ops" in listing.content.decode()


def test_member_cannot_route_another_organizations_alerts(client, notification_settings):
    from apps.accounts.actors import Actor
    from apps.core.errors import PermissionDenied
    from apps.monitoring.notifications.services import save_route

    org, other = make_org(), make_org()
    user = member(org, "admin")
    with pytest.raises(PermissionDenied):
        save_route(
            actor=Actor(user=user),
            route=NotificationRoute(),
            data={
                "organization": other,
                "name": "x",
                "channel": "email",
                "target": {"recipients": ["a@example.com"]},
            },
        )
    with pytest.raises(PermissionDenied):  # platform routes are for platform staff
        save_route(
            actor=Actor(user=make_user(staff=True)),
            route=NotificationRoute(),
            data={
                "organization": None,
                "name": "x",
                "channel": "email",
                "target": {"recipients": ["a@example.com"]},
            },
        )
    assert NotificationRoute.objects.count() == 0


def test_changing_where_alerts_go_needs_a_fresh_second_factor(notification_settings):
    from apps.accounts.actors import StepUpRequired
    from apps.monitoring.notifications.services import save_route
    from tests.accounts.factories import unverified, verified

    org = make_org()
    admin = member(org, "admin")
    data = {
        "organization": org,
        "name": "mail",
        "channel": "email",
        "target": {"recipients": ["a@example.com"]},
    }
    with pytest.raises(StepUpRequired):
        save_route(actor=unverified(admin), route=NotificationRoute(), data=data)
    saved = save_route(actor=verified(admin), route=NotificationRoute(), data=data)
    # Renaming or disabling needs no step-up; a new target does.
    save_route(actor=unverified(admin), route=saved, data={"name": "mail 2", "enabled": False})
    with pytest.raises(StepUpRequired):
        save_route(
            actor=unverified(admin),
            route=NotificationRoute.objects.get(pk=saved.pk),
            data={"target": {"recipients": ["evil@example.com"]}},
        )
    assert NotificationRoute.objects.get(pk=saved.pk).target == {"recipients": ["a@example.com"]}
