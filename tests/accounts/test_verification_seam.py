"""The seam the exchange gateway plugs into: a refused key is never stored, an accepted
one keeps its permissions snapshot. (The verifier here stands in for the exchange.)"""

import pytest

from apps.accounts import services
from apps.accounts.credentials import VerificationResult, set_credentials_verifier
from apps.accounts.models import ExchangeAccount
from apps.audit.models import AuditEvent
from apps.core.errors import ValidationError
from tests.accounts.factories import fake_api_key, fake_secret, make_org, member, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def exchange_says():
    seen = []

    def install(result: VerificationResult):
        def verifier(credentials):
            seen.append(credentials)
            return result

        set_credentials_verifier(verifier)
        return seen

    yield install
    set_credentials_verifier(None)


def _create(org, admin, secret):
    return services.create_exchange_account(
        actor=verified(admin),
        organization=org,
        name="verified",
        environment="live",
        api_key=fake_api_key(),
        secret=secret,
    )


def test_a_refused_key_is_not_stored_and_the_error_names_the_field(exchange_says):
    org = make_org()
    admin = member(org, "admin")
    exchange_says(VerificationResult(accepted=False, permissions={}, message="can withdraw"))
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        _create(org, admin, fake_secret())
    assert caught.value.field == "api_key"
    assert "can withdraw" in caught.value.message
    assert not ExchangeAccount.objects.exists()
    assert AuditEvent.objects.count() == before


def test_an_accepted_key_keeps_the_permissions_snapshot(exchange_says):
    org = make_org()
    admin = member(org, "admin")
    secret = fake_secret()
    seen = exchange_says(VerificationResult(accepted=True, permissions={"canTrade": True}))
    account = _create(org, admin, secret)
    assert seen[0].secret == secret
    assert seen[0].environment == "live"
    assert secret not in repr(seen[0])
    account.refresh_from_db()
    assert account.permissions == {"canTrade": True}
    assert account.permissions_verified_at is not None
    assert AuditEvent.objects.get(action="api_key.added").changes["verified"] is True
    reverified = services.record_key_verification(key_pair=account.key_pairs.get())
    assert reverified.permissions == {"canTrade": True}
