"""Services: roles, validation that names the field and changes nothing, audit in the
same transaction, environments fixed at creation, the kill switch and step-up."""

import time

import pytest
from django.db import DatabaseError, connection, transaction

from apps.accounts import services
from apps.accounts.actors import Actor, StepUpRequired
from apps.accounts.models import AccountStatus, ExchangeAccount, Membership
from apps.audit.models import AuditEvent
from apps.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from tests.accounts.factories import (
    fake_api_key,
    fake_secret,
    make_account,
    make_org,
    make_user,
    member,
    unverified,
    verified,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org("Acme Desk")


@pytest.fixture
def admin(org):
    return member(org, "admin")


def _events(action: str):
    return AuditEvent.objects.filter(action=action)


def test_creating_an_account_audits_it_in_the_organizations_chain(org, admin):
    account = make_account(org, name="main", environment="testnet")
    created = _events("exchange_account.created").get()
    assert created.organization_id == org.pk
    assert created.actor_username == admin.username
    assert created.object_id == str(account.pk)
    assert created.changes["environment"] == {"before": None, "after": "testnet"}
    key_added = _events("api_key.added").get()
    assert key_added.changes["state"] == "active"
    assert account.status == AccountStatus.PAUSED


@pytest.mark.parametrize(
    ("field", "overrides", "rule"),
    [
        ("name", {"name": "  "}, "must not be empty"),
        ("environment", {"environment": "mainnet"}, "must be one of"),
        ("valuation_currency", {"valuation_currency": "usd t"}, "asset symbol"),
        ("api_key", {"api_key": "short"}, "16-128"),
        ("secret", {"secret": "tiny"}, "at least 16"),
        ("key_type", {"key_type": "rsa"}, "must be one of"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(org, admin, field, overrides, rule):
    arguments = {
        "name": "acct",
        "environment": "paper",
        "api_key": fake_api_key(),
        "secret": fake_secret(),
        **overrides,
    }
    events_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.create_exchange_account(actor=verified(admin), organization=org, **arguments)
    assert caught.value.field == field
    assert rule in caught.value.rule
    assert not ExchangeAccount.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_a_validation_error_never_echoes_the_secret(org, admin):
    secret = "x" * 5000
    with pytest.raises(ValidationError) as caught:
        services.create_exchange_account(
            actor=verified(admin),
            organization=org,
            name="a",
            environment="paper",
            api_key=fake_api_key(),
            secret=secret,
        )
    assert secret[:20] not in str(caught.value)


def test_environment_is_fixed_by_the_service_and_by_the_database(org, admin):
    account = make_account(org, environment="paper")
    with pytest.raises(ValidationError) as caught:
        services.update_exchange_account(actor=verified(admin), account=account, environment="live")
    assert caught.value.field == "environment"
    with pytest.raises(DatabaseError, match="fixed at creation"), transaction.atomic():
        ExchangeAccount.objects.filter(pk=account.pk).update(environment="live")
    with connection.cursor() as cursor:
        cursor.execute("SELECT environment FROM accounts_exchangeaccount WHERE id=%s", [account.pk])
        assert cursor.fetchone()[0] == "paper"


def test_renaming_an_account_records_before_and_after(org, admin):
    account = make_account(org, name="old")
    services.update_exchange_account(actor=verified(admin), account=account, name="new")
    event = _events("exchange_account.updated").get()
    assert event.changes == {"name": {"before": "old", "after": "new"}}


def test_roles_decide_who_may_pause_halt_and_unhalt(org, admin):
    account = make_account(org)
    viewer, trader, risk = (member(org, role) for role in ("viewer", "trader", "risk_officer"))
    services.resume_account(actor=verified(trader), account=account)  # paused -> active
    with pytest.raises(PermissionDenied):
        services.pause_account(actor=verified(viewer), account=account)
    with pytest.raises(PermissionDenied):
        services.halt_account(actor=verified(trader), account=account)
    services.halt_account(actor=verified(risk), account=account, reason="drawdown")
    with pytest.raises(PermissionDenied):
        services.unhalt_account(actor=verified(trader), account=account)
    with pytest.raises(PermissionDenied):
        services.resume_account(actor=verified(trader), account=account)
    services.unhalt_account(actor=verified(risk), account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.PAUSED
    actions = list(
        AuditEvent.objects.filter(object_type="accounts.exchangeaccount")
        .order_by("occurred_at", "id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == [
        "exchange_account.resumed",
        "exchange_account.halted",
        "exchange_account.unhalted",
    ]


def test_step_up_is_required_to_unhalt_and_to_resume_a_halted_account(org, admin):
    account = make_account(org)
    risk = member(org, "risk_officer")
    services.halt_account(actor=verified(risk), account=account)
    stale = Actor(user=risk, otp_verified_at=time.time() - 301)
    with pytest.raises(StepUpRequired):
        services.unhalt_account(actor=stale, account=account)
    with pytest.raises(StepUpRequired):
        services.resume_account(actor=unverified(risk), account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.HALTED
    services.resume_account(actor=verified(risk), account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_step_up_is_required_for_keys_and_members(org, admin):
    account = make_account(org)
    with pytest.raises(StepUpRequired):
        services.add_key_pair(
            actor=unverified(admin),
            account=account,
            api_key=fake_api_key(),
            secret=fake_secret(),
            key_type="hmac",
        )
    with pytest.raises(StepUpRequired):
        services.add_member(
            actor=unverified(admin), organization=org, user=make_user(), role="viewer"
        )
    assert account.key_pairs.count() == 1
    assert Membership.objects.filter(organization=org).count() == 1


def test_the_kill_switch_needs_confirmation_but_no_step_up_and_any_role(org, admin):
    account = make_account(org)
    viewer = member(org, "viewer")
    with pytest.raises(ValidationError) as caught:
        services.kill_account(actor=unverified(viewer), account=account, confirm=False)
    assert caught.value.field == "confirm"
    services.kill_account(actor=unverified(viewer), account=account, confirm=True)
    account.refresh_from_db()
    assert account.status == AccountStatus.HALTED
    killed = _events("exchange_account.killed").get()
    assert killed.actor_username == viewer.username


def test_other_organizations_objects_are_not_found(org, admin):
    other = make_org("Other Desk")
    member(other, "admin")
    theirs = make_account(other)
    with pytest.raises(NotFound):
        services.kill_account(actor=verified(admin), account=theirs, confirm=True)
    theirs.refresh_from_db()
    assert theirs.status == AccountStatus.PAUSED


def test_members_are_added_changed_and_removed_with_audit(org, admin):
    newcomer = make_user("newcomer")
    membership = services.add_member(
        actor=verified(admin), organization=org, user=newcomer, role="viewer"
    )
    services.change_member_role(actor=verified(admin), membership=membership, role="trader")
    services.remove_member(actor=verified(admin), membership=membership)
    actions = list(
        AuditEvent.objects.filter(action__startswith="membership.")
        .order_by("id")
        .values_list("action", "changes")
    )
    assert [a for a, _ in actions] == [
        "membership.created",
        "membership.updated",
        "membership.deleted",
    ]
    assert actions[1][1]["role"] == {"before": "viewer", "after": "trader"}


def test_the_last_admin_cannot_be_removed_or_demoted(org, admin):
    membership = Membership.objects.get(user=admin)
    with pytest.raises(ConflictError):
        services.remove_member(actor=verified(admin), membership=membership)
    with pytest.raises(ConflictError):
        services.change_member_role(actor=verified(admin), membership=membership, role="viewer")


def test_only_platform_staff_create_organizations(admin):
    with pytest.raises(PermissionDenied):
        services.create_organization(actor=verified(admin), name="Rogue")
    root = make_user(superuser=True)
    created = services.create_organization(actor=verified(root), name="Beta Fund")
    assert created.slug == "beta-fund"
    with pytest.raises(ValidationError) as caught:
        services.create_organization(actor=verified(root), name="Beta Fund")
    assert caught.value.field == "name"


def test_a_live_account_runs_only_after_a_risk_officer_approved_it(org, admin):
    account = make_account(org, environment="live")
    trader, risk = member(org, "trader"), member(org, "risk_officer")
    with pytest.raises(ConflictError, match="approve live trading"):
        services.resume_account(actor=verified(trader), account=account)
    with pytest.raises(PermissionDenied):
        services.approve_live(actor=verified(trader), account=account)
    with pytest.raises(StepUpRequired):
        services.approve_live(actor=unverified(risk), account=account)
    services.approve_live(actor=verified(risk), account=account)
    services.resume_account(actor=verified(trader), account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.live_approved_by == risk.username
    assert _events("exchange_account.live_approved").get().actor_id == risk.pk
    paper = make_account(org, environment="paper")
    with pytest.raises(ConflictError):
        services.approve_live(actor=verified(risk), account=paper)
