"""Every endpoint by role: viewer, trader, risk officer, admin, and a member of another
organization (who must not even learn the object exists)."""

import json

import pytest

from apps.accounts.models import AccountStatus, ApiKeyPair, ExchangeAccount, KeyState, Membership
from apps.api import selectors
from tests.accounts.factories import fake_api_key, fake_secret, make_account, member, verified
from tests.api.conftest import Desk, error_of, session_client

pytestmark = pytest.mark.django_db

ROLES = ["viewer", "trader", "risk_officer", "admin"]
ALL = set(ROLES)
ADMIN = {"admin"}
TRADE = {"trader", "admin"}
RISK = {"risk_officer", "admin"}


class World:
    def __init__(self):
        self.desk = Desk()
        self.account = make_account(self.desk.org)
        self.live = make_account(self.desk.org, environment="live")
        self.victim = member(self.desk.org, "viewer")  # a membership to change or remove
        self.membership = Membership.objects.get(user=self.victim)
        from apps.accounts import services

        self.pending = services.add_key_pair(
            actor=verified(self.desk.admin),
            account=self.account,
            api_key=fake_api_key(),
            secret=fake_secret(),
            key_type="hmac",
        )

    def status(self, value):
        ExchangeAccount.objects.filter(pk=self.account.pk).update(status=value)


# (name, method, path, body, account status before, roles allowed, success status)
CASES = [
    ("org list", "get", "/api/v1/organizations/", None, None, ALL, 200),
    ("org detail", "get", "/api/v1/organizations/{org}/", None, None, ALL, 200),
    ("org rename", "patch", "/api/v1/organizations/{org}/", {"name": "Renamed"}, None, ADMIN, 200),
    ("org create", "post", "/api/v1/organizations/", {"name": "New desk"}, None, set(), 201),
    ("member list", "get", "/api/v1/memberships/?organization={org}", None, None, ALL, 200),
    ("member detail", "get", "/api/v1/memberships/{membership}/", None, None, ALL, 200),
    (
        "member add",
        "post",
        "/api/v1/memberships/",
        {"organization": "{org}", "username": "{outsider}", "role": "viewer"},
        None,
        ADMIN,
        201,
    ),
    (
        "member role",
        "patch",
        "/api/v1/memberships/{membership}/",
        {"role": "trader"},
        None,
        ADMIN,
        200,
    ),
    ("member remove", "delete", "/api/v1/memberships/{membership}/", None, None, ADMIN, 204),
    ("account list", "get", "/api/v1/exchange-accounts/", None, None, ALL, 200),
    ("account detail", "get", "/api/v1/exchange-accounts/{account}/", None, None, ALL, 200),
    (
        "account create",
        "post",
        "/api/v1/exchange-accounts/",
        {
            "organization": "{org}",
            "name": "fresh",
            "environment": "paper",
            "api_key": "{api_key}",
            "secret": "{secret}",
        },
        None,
        ADMIN,
        201,
    ),
    (
        "account rename",
        "patch",
        "/api/v1/exchange-accounts/{account}/",
        {"name": "x"},
        None,
        ADMIN,
        200,
    ),
    ("pause", "post", "/api/v1/exchange-accounts/{account}/pause/", {}, "active", TRADE, 200),
    ("resume", "post", "/api/v1/exchange-accounts/{account}/resume/", {}, "paused", TRADE, 200),
    (
        "halt",
        "post",
        "/api/v1/exchange-accounts/{account}/halt/",
        {"reason": "r"},
        "active",
        RISK,
        200,
    ),
    ("unhalt", "post", "/api/v1/exchange-accounts/{account}/unhalt/", {}, "halted", RISK, 200),
    (
        "kill",
        "post",
        "/api/v1/exchange-accounts/{account}/kill/",
        {"confirm": True},
        "active",
        ALL,
        200,
    ),
    ("disable", "post", "/api/v1/exchange-accounts/{account}/disable/", {}, "paused", ADMIN, 200),
    ("approve live", "post", "/api/v1/exchange-accounts/{live}/approve-live/", {}, None, RISK, 200),
    (
        "add key",
        "post",
        "/api/v1/exchange-accounts/{live}/keys/",
        {"api_key": "{api_key}", "secret": "{secret}"},
        None,
        ADMIN,
        201,
    ),
    ("key list", "get", "/api/v1/key-pairs/", None, None, ALL, 200),
    ("key detail", "get", "/api/v1/key-pairs/{pending}/", None, None, ALL, 200),
    ("promote key", "post", "/api/v1/key-pairs/{pending}/promote/", {}, None, ADMIN, 200),
    ("discard key", "post", "/api/v1/key-pairs/{pending}/discard/", {}, None, ADMIN, 200),
    ("strategies", "get", "/api/v1/strategies/", None, None, ALL, 200),
    ("risk profiles", "get", "/api/v1/risk-profiles/", None, None, ALL, 200),
    ("risk create", "post", "/api/v1/risk-profiles/", {"name": "p"}, None, set(), 201),
    ("audit", "get", "/api/v1/audit-events/", None, None, RISK, 200),
    # Alerts name their organization (monitoring): every member reads their own.
    (
        "alerts",
        "get",
        "/api/v1/alerts/",
        None,
        None,
        ALL if selectors.alerts_are_scoped() else set(),
        200,
    ),
    ("tokens", "get", "/api/v1/tokens/", None, None, ALL, 200),
]


def _fill(value, world, outsider):
    names = {
        "org": world.desk.org.pk,
        "account": world.account.pk,
        "live": world.live.pk,
        "membership": world.membership.pk,
        "pending": world.pending.pk,
        "outsider": outsider.username,
        "api_key": fake_api_key(),
        "secret": fake_secret(),
    }
    text = json.dumps(value) if not isinstance(value, str) else value
    for key, replacement in names.items():
        text = text.replace("{" + key + "}", str(replacement))
    return json.loads(text) if not isinstance(value, str) else text


def _call(client, method, path, body):
    if method in ("get", "delete"):
        return getattr(client, method)(path)
    return getattr(client, method)(path, data=body, content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_endpoint_by_role(case, role):
    name, method, path, body, status_before, allowed, success = case
    world = World()
    outsider = member(Desk().org, "viewer")
    if status_before:
        world.status(status_before)
    response = _call(
        session_client(world.desk.user(role)),
        method,
        _fill(path, world, outsider),
        _fill(body, world, outsider) if body is not None else None,
    )
    if role in allowed:
        assert response.status_code == success, (name, role, response.content)
    else:
        assert response.status_code == 403, (name, role, response.content)
        assert error_of(response)["code"] in ("permission_denied",)


OBJECT_CASES = [c for c in CASES if "{" in c[2].split("?")[0]]


@pytest.mark.parametrize("case", OBJECT_CASES, ids=[c[0] for c in OBJECT_CASES])
def test_another_organizations_admin_gets_not_found(case):
    name, method, path, body, status_before, _allowed, _success = case
    world = World()
    stranger = Desk()
    if status_before:
        world.status(status_before)
    response = _call(
        session_client(stranger.admin),
        method,
        _fill(path, world, stranger.viewer),
        _fill(body, world, stranger.viewer) if body is not None else None,
    )
    assert response.status_code == 404, (name, response.content)
    assert error_of(response)["code"] == "not_found"
    assert world.desk.org.name not in response.content.decode()


def test_lists_show_only_the_callers_organizations():
    mine, theirs = World(), World()
    client = session_client(mine.desk.viewer)
    for path, key in [
        ("/api/v1/organizations/", "id"),
        ("/api/v1/exchange-accounts/", "organization"),
        ("/api/v1/memberships/", "organization"),
    ]:
        rows = client.get(path).json()["results"]
        assert rows, path
        assert {r[key] for r in rows} == {mine.desk.org.pk}, path
    accounts = {r["id"] for r in client.get("/api/v1/exchange-accounts/").json()["results"]}
    assert theirs.account.pk not in accounts
    keys = {r["id"] for r in client.get("/api/v1/key-pairs/").json()["results"]}
    assert theirs.pending.pk not in keys
    assert mine.pending.pk in keys


def test_platform_staff_create_organizations(db):
    from tests.accounts.factories import make_user

    client = session_client(make_user(superuser=True))
    response = client.post(
        "/api/v1/organizations/", {"name": "Staff desk"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "staff-desk"


def test_step_up_is_required_for_member_changes_but_not_for_the_kill_switch():
    world = World()
    world.status(AccountStatus.ACTIVE)
    stale = session_client(world.desk.admin, fresh=False)
    response = stale.patch(
        f"/api/v1/memberships/{world.membership.pk}/",
        {"role": "trader"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "step_up_required"
    assert Membership.objects.get(pk=world.membership.pk).role == "viewer"

    killed = session_client(world.desk.viewer, fresh=False).post(
        f"/api/v1/exchange-accounts/{world.account.pk}/kill/",
        {"confirm": True},
        content_type="application/json",
    )
    assert killed.status_code == 200, killed.content
    assert killed.json()["status"] == "halted"


def test_account_responses_carry_masks_and_verification_never_secrets():
    world = World()
    api_key, secret = fake_api_key(), fake_secret()
    client = session_client(world.desk.admin)
    created = client.post(
        "/api/v1/exchange-accounts/",
        {
            "organization": world.desk.org.pk,
            "name": "masked",
            "environment": "paper",
            "api_key": api_key,
            "secret": secret,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    listed = client.get(f"/api/v1/exchange-accounts/{created.json()['id']}/")
    for response in (created, listed):
        text = response.content.decode()
        assert secret not in text
        assert api_key not in text
        body = response.json()
        assert {"permissions", "permissions_verified_at"} <= set(body)
        assert "secret" not in body
        assert "api_key" not in body
        (pair,) = body["key_pairs"]
        assert pair["secret_mask"]
        assert pair["api_key_mask"]
        assert pair["state"] == "active"


def test_promote_rotates_the_active_key():
    world = World()
    response = session_client(world.desk.admin).post(
        f"/api/v1/key-pairs/{world.pending.pk}/promote/"
    )
    assert response.status_code == 200
    assert ApiKeyPair.objects.get(pk=world.pending.pk).state == KeyState.ACTIVE
    assert ApiKeyPair.objects.filter(account=world.account, state=KeyState.RETIRED).count() == 1


def test_audit_events_are_role_gated_and_scoped():
    mine, theirs = World(), World()
    rows = session_client(mine.desk.risk_officer).get("/api/v1/audit-events/?page_size=200")
    assert rows.status_code == 200
    orgs = {r["organization_id"] for r in rows.json()["results"]}
    assert orgs == {mine.desk.org.pk}
    assert theirs.desk.org.pk not in orgs


def test_compliance_staff_read_every_audit_trail(db):
    from django.contrib.auth.models import Permission

    from tests.accounts.factories import make_user

    mine, theirs = World(), World()
    auditor = make_user(staff=True)
    auditor.user_permissions.add(
        Permission.objects.get(codename="access_all_organizations"),
        Permission.objects.get(codename="view_auditevent"),
    )
    rows = session_client(auditor).get("/api/v1/audit-events/?page_size=200")
    assert rows.status_code == 200
    orgs = {r["organization_id"] for r in rows.json()["results"]}
    assert {mine.desk.org.pk, theirs.desk.org.pk} <= orgs


def test_alerts_for_members_and_for_platform_staff(db):
    from django.contrib.auth.models import Permission

    from apps.monitoring.alerts import raise_alert
    from tests.accounts.factories import make_user

    raise_alert("warning", "test_alert", "something happened")
    world = World()
    member_response = session_client(world.desk.admin).get("/api/v1/alerts/")
    if selectors.alerts_are_scoped():
        assert member_response.status_code == 200
    else:
        assert member_response.status_code == 403
    ops = make_user(staff=True)
    ops.user_permissions.add(
        Permission.objects.get(codename="access_all_organizations"),
        Permission.objects.get(codename="view_alert"),
    )
    response = session_client(ops).get("/api/v1/alerts/?severity=warning")
    assert response.status_code == 200
    assert [a["event"] for a in response.json()["results"]] == ["test_alert"]


def test_writes_into_another_organization_name_the_field_and_create_nothing():
    mine, theirs = World(), World()
    client = session_client(mine.desk.admin)
    accounts_before = ExchangeAccount.objects.count()
    response = client.post(
        "/api/v1/exchange-accounts/",
        {
            "organization": theirs.desk.org.pk,
            "name": "intruder",
            "environment": "paper",
            "api_key": fake_api_key(),
            "secret": fake_secret(),
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["organization"]
    assert ExchangeAccount.objects.count() == accounts_before
    joined = client.post(
        "/api/v1/memberships/",
        {
            "organization": theirs.desk.org.pk,
            "username": mine.desk.viewer.username,
            "role": "admin",
        },
        content_type="application/json",
    )
    assert joined.status_code == 400
    assert list(error_of(joined)["fields"]) == ["organization"]
    assert not Membership.objects.filter(
        organization=theirs.desk.org, user=mine.desk.viewer
    ).exists()


def test_unknown_usernames_are_revealed_only_to_admins():
    world = World()
    body = {"organization": world.desk.org.pk, "username": "nobody-here", "role": "viewer"}
    as_viewer = session_client(world.desk.viewer).post(
        "/api/v1/memberships/", body, content_type="application/json"
    )
    assert as_viewer.status_code == 403
    as_admin = session_client(world.desk.admin).post(
        "/api/v1/memberships/", body, content_type="application/json"
    )
    assert as_admin.status_code == 400
    assert error_of(as_admin)["fields"] == {"username": ["must be an existing user"]}


def test_risk_profiles_follow_the_strategy_configs_that_use_them():
    from apps.risk.services import create_risk_profile
    from apps.strategies.models import StrategyConfig

    mine, theirs = World(), World()
    own = create_risk_profile(name="own profile")
    foreign = create_risk_profile(name="foreign profile")
    for world, profile in ((mine, own), (theirs, foreign)):
        StrategyConfig.objects.create(
            account=world.account,
            name="cfg",
            strategy="any",
            strategy_version="1",
            interval="1h",
            risk_profile=profile,
        )
    rows = session_client(mine.desk.viewer).get("/api/v1/risk-profiles/").json()["results"]
    assert [r["name"] for r in rows] == ["own profile"]
    assert rows[0]["risk_per_trade"] == "0.010000"
    detail = session_client(mine.desk.viewer).get(f"/api/v1/risk-profiles/{foreign.pk}/")
    assert detail.status_code == 404


def test_session_writes_need_the_csrf_token(desk):
    from django.test import Client

    from tests.accounts.factories import otp_login

    account = make_account(desk.org)
    ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
    client = Client(enforce_csrf_checks=True)
    otp_login(client, desk.trader)
    response = client.post(f"/api/v1/exchange-accounts/{account.pk}/pause/")
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_resuming_a_halted_account_needs_the_risk_role_and_a_fresh_code():
    world = World()
    world.status(AccountStatus.HALTED)
    path = f"/api/v1/exchange-accounts/{world.account.pk}/resume/"
    assert session_client(world.desk.trader).post(path).status_code == 403
    stale = session_client(world.desk.risk_officer, fresh=False).post(path)
    assert stale.status_code == 403
    assert error_of(stale)["code"] == "step_up_required"
    assert ExchangeAccount.objects.get(pk=world.account.pk).status == AccountStatus.HALTED
    fresh = session_client(world.desk.risk_officer).post(path)
    assert fresh.status_code == 200
    assert fresh.json()["status"] == AccountStatus.ACTIVE
