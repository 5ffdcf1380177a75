"""The precompiled token lookup (apps/api/token_lookup.py) finds exactly what the ORM
query it replaces finds, and loads the token and its user as the ORM would."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.api import tokens
from apps.api.models import ApiToken
from apps.api.token_lookup import usable_token

pytestmark = pytest.mark.django_db


def orm_lookup(digest: str):
    return (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(digest=digest, user__is_active=True)
        .first()
    )


def values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


@pytest.fixture
def token(desk):
    from tests.api.conftest import token_for

    raw = token_for(desk.trader, scope="trade")
    found = ApiToken.objects.get(digest=tokens.digest_of(raw))
    found.last_used_at = timezone.now()  # every column holds a value, not a default
    found.last_used_ip = "203.0.113.9"
    found.save()
    return found


def test_a_usable_token_loads_as_the_orm_loads_it(token):
    with CaptureQueriesContext(connection) as queries:
        found = usable_token(token.digest)
        user = found.user  # loaded with it: no second query
    assert len(queries) == 1
    expected = orm_lookup(token.digest)
    assert values(found) == values(expected)
    assert values(user) == values(expected.user)
    assert found._state.db == "default"
    assert not found._state.adding
    assert user._state.db == "default"
    assert not user._state.adding


@pytest.mark.parametrize(
    "change",
    ["revoked", "expired", "expires_now", "inactive_user", "unknown_digest"],
)
def test_an_unusable_token_is_not_found_by_either(token, change):
    digest = token.digest
    if change == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    elif change == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    elif change == "expires_now":  # not after now: no longer usable
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    elif change == "inactive_user":
        type(token.user).objects.filter(pk=token.user_id).update(is_active=False)
    else:
        digest = tokens.digest_of("sdt_" + "0" * 40)
    assert orm_lookup(digest) is None
    assert usable_token(digest) is None


def test_api_requests_authenticate_through_it(token, desk, monkeypatch):
    from apps.api import token_lookup
    from tests.api.conftest import token_client, token_for

    looked_up = []
    original = token_lookup.usable_token

    def spy(digest, **options):
        looked_up.append(digest)
        return original(digest, **options)

    monkeypatch.setattr(tokens, "usable_token", spy)
    raw = token_for(desk.viewer, scope="read")
    assert token_client(raw).get("/api/v1/orders/").status_code == 200
    assert looked_up == [tokens.digest_of(raw)]
