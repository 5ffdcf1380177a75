"""The ops console: masks only, service-backed writes, step-up, kill confirmation and
audited staff access."""

import re

import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import AccountStatus, ExchangeAccount, KeyState
from apps.audit.models import AuditEvent
from tests.accounts.factories import (
    fake_api_key,
    fake_secret,
    make_account,
    make_org,
    make_user,
    member,
    otp_login,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    user = make_user(superuser=True)
    otp_login(client, user)
    return user


@pytest.fixture
def org():
    organization = make_org("Gamma Capital")
    member(organization, "admin")
    return organization


def _add_account(client, org, secret, **overrides):
    data = {
        "organization": org.pk,
        "name": "main",
        "environment": "testnet",
        "valuation_currency": "USDT",
        "key_type": "hmac",
        "api_key": fake_api_key(),
        "secret": secret,
        **overrides,
    }
    return client.post("/admin/accounts/exchangeaccount/add/", data)


def test_adding_an_account_in_admin_goes_through_the_service_and_masks_the_secret(
    client, root, org
):
    secret = fake_secret()
    response = _add_account(client, org, secret)
    assert response.status_code == 302
    account = ExchangeAccount.objects.get(name="main")
    assert AuditEvent.objects.filter(action="exchange_account.created", actor_id=root.pk).exists()
    for url in (
        f"/admin/accounts/exchangeaccount/{account.pk}/change/",
        "/admin/accounts/exchangeaccount/",
        "/admin/accounts/apikeypair/",
        f"/admin/accounts/apikeypair/{account.key_pairs.get().pk}/change/",
        "/admin/audit/auditevent/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert secret not in page.content.decode(), url
    assert (
        f"{secret[:4]}…{secret[-4:]}"
        in client.get(
            f"/admin/accounts/apikeypair/{account.key_pairs.get().pk}/change/"
        ).content.decode()
    )


def test_an_invalid_admin_form_does_not_echo_the_secret(client, root, org):
    secret = fake_secret()
    response = _add_account(client, org, secret, valuation_currency="not valid")
    assert response.status_code == 200
    assert secret not in response.content.decode()
    assert not ExchangeAccount.objects.exists()


def test_the_environment_cannot_be_changed_in_admin(client, root, org):
    account = make_account(org, environment="paper")
    url = f"/admin/accounts/exchangeaccount/{account.pk}/change/"
    response = client.post(
        url, {"name": "renamed", "valuation_currency": "USDC", "environment": "live"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.valuation_currency, account.environment) == (
        "renamed",
        "USDC",
        "paper",
    )


def test_key_rotation_in_admin_needs_a_fresh_step_up(client, org):
    user = make_user(superuser=True)
    otp_login(client, user, fresh=False)
    account = make_account(org)
    url = f"/admin/accounts/exchangeaccount/{account.pk}/keys/add/"
    data = {"key_type": "hmac", "api_key": fake_api_key(), "secret": fake_secret()}
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/otp/step-up/")
    assert account.key_pairs.count() == 1
    otp_login(client, user, fresh=True)
    assert client.post(url, data).status_code == 302
    pending = account.key_pairs.get(state=KeyState.PENDING)
    page = client.get(f"/admin/accounts/exchangeaccount/{account.pk}/change/").content.decode()
    assert data["secret"] not in page
    assert f"/keys/{pending.pk}/promote/" in page
    client.post(f"/admin/accounts/exchangeaccount/keys/{pending.pk}/promote/")
    pending.refresh_from_db()
    assert pending.state == KeyState.ACTIVE


def test_the_kill_switch_asks_for_confirmation(client, root, org):
    account = make_account(org)
    changelist = "/admin/accounts/exchangeaccount/"
    ask = client.post(changelist, {"action": "kill", "_selected_action": [account.pk]})
    assert ask.status_code == 200
    assert b"Yes, halt them now" in ask.content
    account.refresh_from_db()
    assert account.status == AccountStatus.PAUSED
    client.post(changelist, {"action": "kill", "_selected_action": [account.pk], "confirm": "yes"})
    account.refresh_from_db()
    assert account.status == AccountStatus.HALTED


def test_staff_access_to_an_organization_is_audited(client, org):
    account = make_account(org)
    ops = make_user(staff=True)
    ops.groups.add(Group.objects.get(name="ops"))
    otp_login(client, ops)
    assert client.get(f"/admin/accounts/exchangeaccount/{account.pk}/change/").status_code == 200
    access = AuditEvent.objects.get(action="staff.accessed")
    assert access.organization_id == org.pk
    assert access.actor_username == ops.username
    assert client.get("/admin/accounts/apikeypair/").status_code == 403  # ops never see keys
    client.post(
        "/admin/accounts/exchangeaccount/",
        {"action": "halt", "_selected_action": [account.pk]},
    )
    account.refresh_from_db()
    assert account.status == AccountStatus.HALTED


def test_membership_changes_in_admin_need_step_up(client, org):
    user = make_user(superuser=True)
    otp_login(client, user, fresh=False)
    newcomer = make_user("newcomer")
    response = client.post(
        "/admin/accounts/membership/add/",
        {"organization": org.pk, "user": newcomer.pk, "role": "viewer"},
    )
    assert response.status_code == 200
    assert re.search(rb"second-factor code", response.content)
    assert not newcomer.memberships.exists()
    otp_login(client, user, fresh=True)
    client.post(
        "/admin/accounts/membership/add/",
        {"organization": org.pk, "user": newcomer.pk, "role": "viewer"},
    )
    assert newcomer.memberships.get().role == "viewer"


def test_removing_the_last_admin_in_admin_is_refused_with_a_message(client, root, org):
    membership = org.memberships.get(role="admin")
    response = client.post(
        f"/admin/accounts/membership/{membership.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert b"keeps at least one admin" in response.content
    assert org.memberships.filter(pk=membership.pk).exists()


def test_organizations_are_created_in_admin_through_the_service(client, root):
    response = client.post("/admin/accounts/organization/add/", {"name": "Delta Trading"})
    assert response.status_code == 302
    created = AuditEvent.objects.get(action="organization.created")
    assert created.changes["slug"] == {"before": None, "after": "delta-trading"}
    duplicate = client.post("/admin/accounts/organization/add/", {"name": "Delta Trading"})
    assert duplicate.status_code == 200
    assert b"must be unique" in duplicate.content
