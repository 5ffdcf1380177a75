"""Personal API tokens: created only from an OTP-verified session with a fresh code,
stored hashed, scoped, expiring, revocable, audited."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import AccountStatus, ExchangeAccount, Membership
from apps.api.models import ApiToken
from apps.audit.models import AuditEvent
from tests.accounts.factories import PASSWORD, code_for, make_account, make_user, member
from tests.api.conftest import error_of, session_client, token_client, token_for

pytestmark = pytest.mark.django_db


def _create(client, **body):
    body = {"name": "ci bot", "scope": "read", **body}
    return client.post("/api/v1/tokens/", body, content_type="application/json")


def test_a_verified_session_creates_a_token_shown_once_and_stored_hashed(desk):
    client = session_client(desk.trader)
    response = _create(client, scope="trade", days=7)
    assert response.status_code == 201, response.content
    body = response.json()
    raw = body["token"]
    assert raw.startswith(body["prefix"] + "_")
    assert body["scope"] == "trade"
    stored = ApiToken.objects.get(pk=body["id"])
    assert raw not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64
    assert timedelta(days=6) < stored.expires_at - timezone.now() <= timedelta(days=7)
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["prefix"] for t in listed] == [body["prefix"]]
    assert raw not in client.get("/api/v1/tokens/").content.decode()
    assert "token" not in listed[0]
    event = AuditEvent.objects.filter(action="api_token.created").latest("id")
    assert event.actor_id == desk.trader.pk
    assert raw not in str(event.changes)
    # The token works.
    assert token_client(raw).get("/api/v1/organizations/").status_code == 200


def test_a_password_alone_never_yields_a_token(desk):
    basic = Client()
    response = basic.post(
        "/api/v1/tokens/",
        {"name": "x", "scope": "read", "username": desk.viewer.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 401
    # A session without a verified device (a viewer who never enrolled) cannot either.
    unverified = Client()
    unverified.force_login(desk.viewer)
    refused = _create(unverified)
    assert refused.status_code == 403
    assert ApiToken.objects.count() == 0


def test_a_session_needing_otp_but_not_verified_is_refused_everywhere(desk):
    client = Client()
    client.force_login(desk.admin)  # admins must use a second factor; none verified here
    response = client.get("/api/v1/organizations/")
    assert response.status_code == 401
    assert "second factor" in error_of(response)["message"]


def test_creating_a_token_needs_a_fresh_code(desk):
    response = _create(session_client(desk.admin, fresh=False))
    assert response.status_code == 403
    assert error_of(response)["code"] == "step_up_required"
    assert ApiToken.objects.count() == 0


def test_tokens_never_manage_tokens(desk):
    raw = token_for(desk.admin, "admin")
    client = token_client(raw)
    assert _create(client).status_code == 403
    assert client.get("/api/v1/tokens/").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "root"}, "scope"),
        ({"days": 0}, "days"),
        ({"days": 366}, "days"),
        ({"name": ""}, "name"),
    ],
)
def test_token_validation(desk, body, field):
    response = _create(session_client(desk.viewer_with_device()), **body)
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]


def test_expired_and_revoked_tokens_are_refused(desk):
    raw = token_for(desk.viewer, "read")
    client = token_client(raw)
    assert client.get("/api/v1/organizations/").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get("/api/v1/organizations/")
    assert expired.status_code == 401
    assert error_of(expired)["code"] == "authentication_failed"

    raw = token_for(desk.viewer, "read")
    token = ApiToken.objects.get(revoked_at__isnull=True, expires_at__gt=timezone.now())
    session = session_client(desk.viewer)
    revoked = session.post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["is_active"] is False
    assert token_client(raw).get("/api/v1/organizations/").status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked", object_id=str(token.pk)).exists()
    # Revoking again changes nothing; DELETE is the same action.
    assert session.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_nobody_revokes_someone_elses_token(desk):
    raw = token_for(desk.trader, "read")
    token = ApiToken.objects.get()
    response = session_client(desk.admin).post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    assert token_client(raw).get("/api/v1/organizations/").status_code == 200


def test_a_deactivated_user_loses_their_tokens(desk):
    raw = token_for(desk.viewer, "read")
    desk.viewer.is_active = False
    desk.viewer.save()
    assert token_client(raw).get("/api/v1/organizations/").status_code == 401


def test_last_use_is_recorded(desk):
    raw = token_for(desk.viewer, "read")
    token_client(raw).get("/api/v1/organizations/", REMOTE_ADDR="10.1.2.3")
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    assert token.last_used_ip == "10.1.2.3"


def test_scopes_limit_what_a_token_may_do_within_the_role(desk):
    account = make_account(desk.org)
    ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
    pause = f"/api/v1/exchange-accounts/{account.pk}/pause/"

    read = token_client(token_for(desk.admin, "read"))
    assert read.get(f"/api/v1/exchange-accounts/{account.pk}/").status_code == 200
    refused = read.post(pause)
    assert refused.status_code == 403
    assert "scope" in error_of(refused)["message"]

    trade = token_client(token_for(desk.admin, "trade"))
    assert trade.post(pause).status_code == 200
    outsider = make_user()
    add = {"organization": desk.org.pk, "username": outsider.username, "role": "viewer"}
    assert (
        trade.post("/api/v1/memberships/", add, content_type="application/json").status_code == 403
    )

    # A scope never exceeds the role: a viewer's admin token still cannot pause.
    viewer_admin = token_client(token_for(desk.viewer, "admin"))
    ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
    assert viewer_admin.post(pause).status_code == 403


def test_an_admin_token_steps_up_with_a_code_header(desk):
    from tests.accounts.factories import totp_device

    device = totp_device(desk.admin)
    client = token_client(token_for(desk.admin, "admin"))
    outsider = make_user()
    body = {"organization": desk.org.pk, "username": outsider.username, "role": "viewer"}
    without = client.post("/api/v1/memberships/", body, content_type="application/json")
    assert without.status_code == 403
    assert error_of(without)["code"] == "step_up_required"
    wrong = client.post(
        "/api/v1/memberships/", body, content_type="application/json", HTTP_X_OTP_CODE="000000"
    )
    assert wrong.status_code == 401
    assert not Membership.objects.filter(user=outsider).exists()
    done = client.post(
        "/api/v1/memberships/",
        body,
        content_type="application/json",
        HTTP_X_OTP_CODE=code_for(device),
    )
    assert done.status_code == 201, done.content
    assert Membership.objects.get(user=outsider).role == "viewer"
    steps = AuditEvent.objects.filter(actor_id=desk.admin.pk, action__startswith="auth.step_up")
    assert sorted(steps.values_list("action", flat=True)) == ["auth.step_up", "auth.step_up_failed"]


def test_malformed_authorization_headers(desk):
    for header in ("Token", "Token a b", "Token not-a-token", "Bearer sdt_nope_nope"):
        response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/organizations/")
        assert response.status_code == 401, header
        assert error_of(response)["code"] == "authentication_failed"


def test_viewer_tokens_see_only_their_organization(desk, other_desk):
    make_account(other_desk.org)
    raw = token_for(desk.viewer, "read")
    rows = token_client(raw).get("/api/v1/exchange-accounts/").json()["results"]
    assert all(r["organization"] == desk.org.pk for r in rows)
    assert member(other_desk.org, "viewer")  # the other desk exists and has members


def test_the_token_never_reaches_the_logs(desk, capfd, caplog):
    client = session_client(desk.admin)
    raw = _create(client, scope="read").json()["token"]
    token_client(raw).get("/api/v1/organizations/")
    token_client(raw).post("/api/v1/organizations/", {}, content_type="application/json")
    token_client(raw + "x").get("/api/v1/organizations/")
    captured = capfd.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "/api/v1/organizations/" in logged  # the refusals were logged...
    assert raw not in logged  # ...without the token
