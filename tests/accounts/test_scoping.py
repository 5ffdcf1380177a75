"""`for_user(user, action)`: members see their organizations, staff what Django
permissions allow, nobody else anything."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from apps.accounts import services
from apps.accounts.models import ApiKeyPair, ExchangeAccount, Membership, Organization
from apps.accounts.roles import Action
from apps.audit.models import AuditEvent
from apps.core.errors import PermissionDenied
from tests.accounts.factories import make_account, make_org, make_user, member, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_orgs():
    a, b = make_org("Alpha"), make_org("Bravo")
    member(a, "admin")
    member(b, "admin")
    return a, b, make_account(a), make_account(b)


def test_members_see_only_their_organization(two_orgs):
    a, b, account_a, _account_b = two_orgs
    viewer = member(a, "viewer")
    assert list(ExchangeAccount.objects.for_user(viewer)) == [account_a]
    assert list(Organization.objects.for_user(viewer)) == [a]
    assert set(ApiKeyPair.objects.for_user(viewer)) == set(account_a.key_pairs.all())
    assert not Membership.objects.for_user(viewer).filter(organization=b).exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {Action.VIEW, Action.KILL}),
        ("trader", {Action.VIEW, Action.KILL, Action.TRADE}),
        ("risk_officer", {Action.VIEW, Action.KILL, Action.RISK}),
        ("admin", set(Action.values)),
    ],
)
def test_each_role_allows_its_actions(two_orgs, role, allowed):
    a, _b, account_a, _ = two_orgs
    user = member(a, role)
    for action in Action.values:
        visible = ExchangeAccount.objects.for_user(user, action).filter(pk=account_a.pk).exists()
        assert visible == (action in allowed), (role, action)


def test_anonymous_inactive_and_outsiders_see_nothing(two_orgs):
    outsider = make_user()
    inactive = member(two_orgs[0], "admin")
    inactive.is_active = False
    inactive.save()
    for user in (AnonymousUser(), outsider, inactive, None):
        assert not ExchangeAccount.objects.for_user(user).exists()
        assert not AuditEvent.objects.for_user(user).exists()


def test_ops_staff_see_every_organization_halt_but_cannot_manage_or_see_keys(two_orgs):
    _a, _b, account_a, account_b = two_orgs
    ops = make_user(staff=True)
    ops.groups.add(Group.objects.get(name="ops"))
    assert set(ExchangeAccount.objects.for_user(ops)) == {account_a, account_b}
    assert ExchangeAccount.objects.for_user(ops, Action.RISK).count() == 2
    assert not Organization.objects.for_user(ops, Action.MANAGE).exists()
    assert not ops.has_perm("accounts.view_apikeypair")
    services.halt_account(actor=verified(ops), account=account_b)
    with pytest.raises(PermissionDenied):
        services.disable_account(actor=verified(ops), account=account_b)


def test_compliance_staff_read_every_audit_chain_members_only_their_own(two_orgs):
    a, _b, *_ = two_orgs
    compliance = make_user(staff=True)
    compliance.groups.add(Group.objects.get(name="compliance"))
    all_orgs = set(AuditEvent.objects.values_list("organization_id", flat=True))
    assert (
        set(AuditEvent.objects.for_user(compliance).values_list("organization_id", flat=True))
        == all_orgs
    )
    risk = member(a, "risk_officer")
    viewer = member(a, "viewer")
    assert set(AuditEvent.objects.for_user(risk).values_list("organization_id", flat=True)) == {
        a.pk
    }
    assert not AuditEvent.objects.for_user(viewer).exists()


def _relational_scopes():
    """Every scoped model whose organization is reached through a relation."""
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if "__" in (getattr(model, "organization_path", None) or "")
        and model.organization_path.endswith("__organization")
    ]


@pytest.mark.parametrize("model", _relational_scopes(), ids=lambda m: m._meta.label)
def test_a_scope_through_a_relation_is_a_semi_join_on_the_related_key(two_orgs, model):
    # Joined instead, PostgreSQL misjudges `?account=N` and sorts the account's whole
    # history for a page of 50 (docs/performance.md); the rows are the same either way.
    viewer = member(two_orgs[0], "viewer")
    relation = model.organization_path.rpartition("__")[0]
    sql = str(model.objects.for_user(viewer).query)
    owner = model
    for name in relation.split("__"):
        last = owner._meta.get_field(name)
        owner = last.related_model
    assert f'"{last.column}" IN (SELECT' in sql
    assert f'"{owner._meta.db_table}"."organization_id" IN' not in sql


def test_the_semi_join_scope_keeps_each_organizations_rows_apart(two_orgs):
    from apps.trading.models import Order
    from tests.trading.support import make_config, order_for, sync_default_symbols

    a, _b, account_a, account_b = two_orgs
    sync_default_symbols()
    ours = order_for(make_config(account_a))
    order_for(make_config(account_b))
    viewer = member(a, "viewer")
    assert list(Order.objects.for_user(viewer)) == [ours]
    assert list(Order.objects.for_user(viewer).filter(account=account_a)) == [ours]
    assert not Order.objects.for_user(viewer).filter(account=account_b).exists()


def _member_scoped_models():
    from django.apps import apps

    from apps.accounts.scoping import OrganizationScopedQuerySet

    return [
        model
        for model in apps.get_models()
        if isinstance(model._default_manager.all(), OrganizationScopedQuerySet)
    ]


@pytest.mark.parametrize("model", _member_scoped_models(), ids=lambda m: m._meta.label)
def test_a_members_compiled_scope_is_the_sql_the_orm_builds(two_orgs, model):
    from apps.accounts import scoping

    viewer = member(two_orgs[0], "trader")
    for action in Action.values:
        built = model.objects.filter(
            scoping.organization_scope(model, scoping.member_organization_ids(viewer, action))
        )
        compiled = model.objects.for_user(viewer, action)
        assert str(compiled.query) == str(built.query), (model, action)
        assert set(compiled.values_list("pk", flat=True)) == set(built.values_list("pk", flat=True))


def test_a_members_scope_is_compiled_once_and_bound_per_user(two_orgs):
    from apps.accounts import scoping

    a, b, account_a, account_b = two_orgs
    first, second = member(a, "viewer"), member(b, "viewer")
    scoping._member_scope.cache_clear()
    assert list(ExchangeAccount.objects.for_user(first)) == [account_a]
    assert list(ExchangeAccount.objects.for_user(second)) == [account_b]
    info = scoping._member_scope.cache_info()
    assert (info.misses, info.hits) == (1, 1)
