"""django-axes: lockout after repeated failures, audited, and an audited unlock."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission

from apps.audit.models import AuditEvent
from tests.accounts.factories import PASSWORD, make_user, otp_login

pytestmark = pytest.mark.django_db


def _fail(client, username, times):
    responses = []
    for _ in range(times):
        responses.append(
            client.post("/accounts/login/", {"username": username, "password": "wrong-password"})
        )
    return responses


def test_five_failures_lock_the_username_from_that_address(client, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    user = make_user("victim")
    responses = _fail(client, "victim", 5)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429
    # Even the right password is refused now.
    locked = client.post("/accounts/login/", {"username": "victim", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.filter(action="auth.locked_out").order_by("id").first()
    assert event.changes == {"username": "victim", "ip_address": "127.0.0.1"}
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 5
    # Another address is not locked.
    other = client.post(
        "/accounts/login/",
        {"username": "victim", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.9",
    )
    assert other.status_code == 302
    assert user.pk == int(client.session["_auth_user_id"])


def test_lockouts_are_visible_in_admin_and_unlocking_is_audited(client):
    _fail(client, "victim", 5)
    attempt = AccessAttempt.objects.get(username="victim")
    assert "wrong-password" not in attempt.post_data  # axes stores cleansed form data
    staff = make_user(staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="axes",
            codename__in=["view_accessattempt", "delete_accessattempt"],
        )
    )
    otp_login(client, staff)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert b"victim" in listing.content
    attempt = AccessAttempt.objects.get(username="victim")
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "unlock", "_selected_action": [attempt.pk]},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="victim").exists()
    unlocked = AuditEvent.objects.get(action="auth.unlocked")
    assert unlocked.actor_username == staff.username
    assert unlocked.changes["username"] == "victim"
    client.logout()
    make_user("victim")
    ok = client.post("/accounts/login/", {"username": "victim", "password": PASSWORD})
    assert ok.status_code == 302


def test_staff_without_the_permission_cannot_unlock(client):
    _fail(client, "victim", 5)
    staff = make_user(staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_accessattempt"))
    otp_login(client, staff)
    attempt = AccessAttempt.objects.get(username="victim")
    client.post(
        "/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]}
    )
    assert AccessAttempt.objects.filter(username="victim").exists()
    assert not AuditEvent.objects.filter(action="auth.unlocked").exists()


def test_the_admin_login_accepts_no_password_so_it_cannot_be_brute_forced(client):
    user = make_user(superuser=True)
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
