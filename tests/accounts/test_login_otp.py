"""Login with a second factor, the OTP-only admin, enrolment and step-up."""

import re

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import otp
from apps.accounts.actors import OTP_VERIFIED_AT_SESSION_KEY
from apps.audit.models import AuditEvent
from tests.accounts.factories import (
    PASSWORD,
    code_for,
    make_org,
    make_user,
    member,
    otp_login,
    totp_device,
)

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def _login(client, username, code="", next_url=""):
    return client.post(
        LOGIN, {"username": username, "password": PASSWORD, "otp_token": code, "next": next_url}
    )


def test_staff_reach_the_admin_only_with_a_verified_device(client):
    staff = make_user(superuser=True)
    client.force_login(staff)  # password only
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert f'action="{LOGIN}"'.encode() in response.content
    assert b'name="otp_token"' in response.content
    otp_login(client, staff)
    assert client.get("/admin/").status_code == 200


def test_staff_login_without_a_code_is_refused_and_counted(client):
    staff = make_user(staff=True)
    totp_device(staff)
    response = _login(client, staff.username)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"Invalid username, password or code." in response.content
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor_username == staff.username
    assert failed.changes == {"reason": "second_factor"}


def test_staff_login_with_a_code_reaches_the_admin(client):
    staff = make_user(superuser=True)
    device = totp_device(staff)
    response = _login(client, staff.username, code_for(device), next_url="/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.session[OTP_VERIFIED_AT_SESSION_KEY]
    assert client.get("/admin/").status_code == 200
    login = AuditEvent.objects.get(action="auth.login")
    assert login.changes == {"second_factor": "TOTPDevice"}
    assert login.ip_address == "127.0.0.1"


def test_the_admin_login_page_is_the_single_login(client):
    response = client.get("/admin/login/?next=/admin/accounts/")
    assert response.status_code == 200
    page = response.content.decode()
    # The same form, posting to the one view that checks passwords.
    assert f'action="{LOGIN}"' in page
    assert 'name="next" value="/admin/accounts/"' in page
    assert 'name="otp_token"' in page


@pytest.mark.parametrize("role", ["trader", "risk_officer", "admin"])
def test_money_moving_roles_need_a_code(client, role):
    user = member(make_org(), role)
    device = totp_device(user)
    _login(client, user.username)
    assert "_auth_user_id" not in client.session
    response = _login(client, user.username, code_for(device))
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_viewer_without_a_device_logs_in_with_a_password(client):
    viewer = member(make_org(), "viewer")
    response = _login(client, viewer.username)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/security/"
    assert client.session["_auth_user_id"] == str(viewer.pk)


def test_a_trader_without_a_device_must_enrol_before_being_logged_in(client):
    trader = member(make_org(), "trader")
    response = _login(client, trader.username)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/otp/enrol/"
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/otp/enrol/")
    uri = re.search(rb'id="provisioning-uri">([^<]+)<', page.content).group(1).decode()
    assert uri.startswith("otpauth://totp/")
    device = TOTPDevice.objects.get(user=trader, confirmed=False)
    wrong = client.post("/accounts/otp/enrol/", {"otp_token": "000000"})
    assert b"not valid" in wrong.content
    done = client.post("/accounts/otp/enrol/", {"otp_token": code_for(device)})
    assert client.session["_auth_user_id"] == str(trader.pk)
    codes = re.findall(rb"<li><code>([0-9a-f]{8})</code></li>", done.content)
    assert len(codes) == otp.BACKUP_CODE_COUNT
    assert AuditEvent.objects.filter(action="auth.otp_enrolled", actor_id=trader.pk).exists()
    # A backup code works once in place of the authenticator.
    client.logout()
    assert _login(client, trader.username, codes[0].decode()).status_code == 302
    client.logout()
    assert _login(client, trader.username, codes[0].decode()).status_code == 200


def test_step_up_page_refreshes_the_window(client):
    user = member(make_org(), "admin")
    device = otp_login(client, user, fresh=False)
    stale = client.session[OTP_VERIFIED_AT_SESSION_KEY]
    wrong = client.post("/accounts/otp/step-up/", {"otp_token": "123456"})
    assert wrong.status_code == 200
    response = client.post(
        "/accounts/otp/step-up/?next=/accounts/security/", {"otp_token": code_for(device)}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/security/"
    assert client.session[OTP_VERIFIED_AT_SESSION_KEY] > stale
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"auth.step_up", "auth.step_up_failed"} <= actions


def test_step_up_ignores_foreign_redirects(client):
    user = member(make_org(), "admin")
    device = otp_login(client, user)
    response = client.post(
        "/accounts/otp/step-up/?next=https://evil.example.com/", {"otp_token": code_for(device)}
    )
    assert response["Location"] == "/accounts/security/"


def test_logout_is_audited(client):
    user = member(make_org(), "viewer")
    client.force_login(user)
    client.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", actor_id=user.pk).exists()


def test_adding_another_authenticator_needs_a_fresh_code(client):
    user = member(make_org(), "admin")
    otp_login(client, user, fresh=False)
    response = client.get("/accounts/otp/enrol/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/otp/step-up/")
    otp_login(client, user, fresh=True)
    assert client.get("/accounts/otp/enrol/").status_code == 200


def test_the_security_page_lists_only_the_users_own_memberships(client):
    mine, other = make_org("Mine Desk"), make_org("Other Desk")
    user = member(mine, "viewer")
    member(other, "viewer")
    client.force_login(user)
    page = client.get("/accounts/security/").content.decode()
    assert "Mine Desk" in page
    assert "Other Desk" not in page
    assert "/accounts/otp/enrol/" in page
