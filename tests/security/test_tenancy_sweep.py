"""The tenancy sweep: members of two organizations, every organization-owned model,
every admin page and every named URL route; any trace of the other tenant fails.

Later issues need not edit this file: their models are discovered through their
foreign keys to Organization, their admin pages through the admin registry, and their
API routes through the URL resolver.
"""

import secrets

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import NoReverseMatch, reverse

from apps.accounts.models import Membership, Organization
from apps.accounts.roles import Action
from apps.accounts.scoping import CROSS_ORGANIZATION_PERMISSION, organization_id_of
from tests.accounts.factories import make_user, otp_login
from tests.security.tenancy import (
    SKIPPED_ROUTE_NAMES,
    Builder,
    argument_sets,
    named_routes,
    organization_owned_models,
    scoped_models,
)

pytestmark = pytest.mark.django_db


class Tenant:
    def __init__(self, label: str):
        self.marker = f"tenant{label}{secrets.token_hex(4)}"
        self.organization = Organization.objects.create(name=self.marker, slug=self.marker)
        builder = Builder(self.organization, self.marker)
        self.objects = {model: builder.build(model) for model in scoped_models()}
        self.admin = self._member("admin", staff=True)
        self.viewer = self._member("viewer", staff=False)

    def _member(self, role: str, *, staff: bool):
        user = make_user(f"{self.marker}-{role}", staff=staff)
        Membership.objects.create(organization=self.organization, user=user, role=role)
        if staff:
            # Every permission on every tenant-owned model, but not cross-organization
            # access: scoping, not missing permissions, must keep the other tenant out.
            content_types = ContentType.objects.get_for_models(*scoped_models()).values()
            app, codename = CROSS_ORGANIZATION_PERMISSION.split(".")
            user.user_permissions.add(
                *Permission.objects.filter(content_type__in=content_types).exclude(
                    content_type__app_label=app, codename=codename
                )
            )
        return user

    def client_for(self, user) -> Client:
        client = Client()
        otp_login(client, user)
        return client


@pytest.fixture
def tenants():
    return Tenant("a"), Tenant("b")


def _body(response) -> str:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_every_organization_owned_model_is_scoped():
    unscoped = [m._meta.label for m in organization_owned_models() if m not in scoped_models()]
    assert unscoped == [], (
        "these models belong to an organization but have no `objects.for_user`: "
        "use OrganizationScopedQuerySet and set organization_path"
    )


def test_querysets_never_return_the_other_tenants_rows(tenants):
    mine, theirs = tenants
    for model in scoped_models():
        for user in (mine.admin, mine.viewer):
            for action in Action.values:
                visible = model._default_manager.for_user(user, action)
                leaked = [o for o in visible if organization_id_of(o) == theirs.organization.pk]
                assert leaked == [], (model._meta.label, user.username, action)
        own = model._default_manager.for_user(mine.admin, Action.VIEW)
        assert own.filter(pk=mine.objects[model].pk).exists(), model._meta.label


def test_admin_pages_never_show_the_other_tenant(tenants):
    mine, theirs = tenants
    client = mine.client_for(mine.admin)
    checked = 0
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = client.get(reverse(f"{prefix}_changelist"))
        assert theirs.marker not in _body(changelist), f"{model._meta.label} changelist"
        foreign = theirs.objects.get(model)
        if foreign is None:
            continue
        for view in ("change", "history", "delete"):
            url = reverse(f"{prefix}_{view}", args=[foreign.pk])
            response = client.get(url)
            assert response.status_code != 200 or theirs.marker not in _body(response), url
            checked += 1
    assert checked >= 3 * len([m for m in scoped_models() if m in admin.site._registry])


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_every_named_route_with_the_other_tenants_ids_leaks_nothing(tenants, role):
    mine, theirs = tenants
    client = mine.client_for(getattr(mine, role))
    foreign_ids = sorted(
        {str(o.pk) for o in theirs.objects.values()} | {str(theirs.organization.pk)}
    )
    requested = 0
    for name, params in named_routes():
        if name in SKIPPED_ROUTE_NAMES or name.endswith(":logout"):
            continue
        for args in argument_sets(params, foreign_ids):
            try:
                url = reverse(name, kwargs=dict(zip(params, args, strict=True)))
            except NoReverseMatch:
                continue
            response = client.get(url)
            requested += 1
            assert theirs.marker not in _body(response), f"{url} ({response.status_code})"
    assert requested > 50
