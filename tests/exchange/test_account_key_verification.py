"""Saving a key in apps.accounts asks the exchange first (the installed verifier)."""

import pytest

from apps.accounts.credentials import set_credentials_verifier
from apps.accounts.models import ExchangeAccount
from apps.core.errors import ValidationError
from apps.exchange.apps import install_key_verification
from tests.accounts.factories import make_account, make_org, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def verification(paper_url, redis_client):
    install_key_verification()
    yield
    set_credentials_verifier(None)


def test_a_key_that_can_withdraw_is_never_stored(verification, paper_credentials):
    organization = make_org()
    member(organization, "admin")
    _, key = paper_credentials(withdrawals=True)
    with pytest.raises(ValidationError) as caught:
        make_account(organization, api_key=key["apiKey"], secret=key["secretKey"])
    assert caught.value.field == "api_key"
    assert "withdraw" in caught.value.message
    assert not ExchangeAccount.objects.filter(organization=organization).exists()


def test_a_trade_only_key_is_stored_with_its_permissions(verification, paper_credentials):
    organization = make_org()
    member(organization, "admin")
    _, key = paper_credentials()
    account = make_account(organization, api_key=key["apiKey"], secret=key["secretKey"])
    account.refresh_from_db()
    assert account.permissions_verified_at is not None
    assert account.permissions["can_withdraw"] is False
