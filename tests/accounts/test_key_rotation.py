"""Exchange-key rotation without downtime: add beside, promote atomically, erase the old."""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.accounts import services
from apps.accounts.credentials import credentials_for_key, load_credentials
from apps.accounts.models import ApiKeyPair, KeyState
from apps.audit.models import AuditEvent
from apps.core.errors import ConflictError
from tests.accounts.factories import (
    fake_api_key,
    fake_secret,
    make_account,
    make_org,
    member,
    verified,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    organization = make_org()
    admin = member(organization, "admin")
    old_secret = fake_secret()
    account = make_account(organization, secret=old_secret)
    return account, verified(admin), old_secret


def _add(account, actor, secret):
    return services.add_key_pair(
        actor=actor, account=account, api_key=fake_api_key(), secret=secret, key_type="hmac"
    )


def test_a_new_pair_waits_beside_the_active_one_until_promoted(setup):
    account, actor, old_secret = setup
    new_secret = fake_secret()
    pending = _add(account, actor, new_secret)
    assert pending.state == KeyState.PENDING
    assert load_credentials(account).secret == old_secret  # still trading on the old key
    with pytest.raises(ConflictError):
        _add(account, actor, fake_secret())  # one pending pair at a time


def test_promotion_swaps_keys_in_one_audited_step_and_erases_the_old_secret(setup):
    account, actor, old_secret = setup
    old = account.key_pairs.get(state=KeyState.ACTIVE)
    in_flight = load_credentials(account)  # a client built before the promotion
    new_secret = fake_secret()
    pending = _add(account, actor, new_secret)

    services.promote_key_pair(actor=actor, key_pair=pending)

    old.refresh_from_db()
    pending.refresh_from_db()
    account.refresh_from_db()
    assert (old.state, pending.state) == (KeyState.RETIRED, KeyState.ACTIVE)
    assert old.secret is None
    assert old.retired_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_apikeypair WHERE id = %s", [old.pk])
        assert cursor.fetchone()[0] is None
    assert old.secret_mask  # the mask stays for the record
    assert in_flight.secret == old_secret  # calls in flight finish with the old key
    assert load_credentials(account).secret == new_secret
    assert account.keys_rotated_at is not None
    promoted = AuditEvent.objects.get(action="api_key.promoted")
    assert promoted.changes["active_key"] == {
        "before": old.api_key_mask,
        "after": pending.api_key_mask,
    }
    with pytest.raises(ConflictError):
        credentials_for_key(old)


def test_only_a_pending_pair_can_be_promoted_or_discarded(setup):
    account, actor, _ = setup
    active = account.key_pairs.get()
    with pytest.raises(ConflictError):
        services.promote_key_pair(actor=actor, key_pair=active)
    pending = _add(account, actor, fake_secret())
    services.discard_key_pair(actor=actor, key_pair=pending)
    pending.refresh_from_db()
    assert pending.state == KeyState.RETIRED
    assert pending.secret is None


def test_the_database_allows_one_active_pair_per_account(setup):
    account, *_ = setup
    active = account.key_pairs.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKeyPair.objects.create(
            account=account,
            key_type="hmac",
            api_key=fake_api_key(),
            api_key_mask="x",
            secret=active.secret,
            secret_mask="x",
            state=KeyState.ACTIVE,
        )
