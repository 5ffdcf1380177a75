"""Keys with withdrawal or transfer rights are never stored (apps/exchange/keys.py
against the paper exchange's key options). Withdrawal rights are covered in
tests/exchange/test_account_key_verification.py; this adds the transfer rights and
the admin form path a person actually uses."""

import pytest

from apps.accounts.credentials import set_credentials_verifier
from apps.accounts.models import ExchangeAccount
from apps.core.errors import ValidationError
from apps.exchange.apps import install_key_verification
from tests.accounts.factories import make_account, make_org, make_user, member, otp_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def verification(paper_market):
    install_key_verification()
    yield
    set_credentials_verifier(None)


@pytest.mark.parametrize(
    ("options", "word"),
    [({"internalTransfer": True}, "transfer"), ({"withdrawals": True}, "withdraw")],
)
def test_a_key_with_transfer_or_withdrawal_rights_is_refused(
    verification, exchange_admin, options, word
):
    organization = make_org()
    member(organization, "admin")
    key = exchange_admin.create_key({"USDT": "100"}, **options)
    with pytest.raises(ValidationError) as caught:
        make_account(organization, api_key=key["apiKey"], secret=key["secretKey"])
    assert caught.value.field == "api_key"
    assert word in caught.value.message
    assert key["secretKey"] not in caught.value.message
    assert not ExchangeAccount.objects.filter(organization=organization).exists()


def test_the_admin_form_refuses_a_transfer_key_and_stores_nothing(
    verification, exchange_admin, client
):
    organization = make_org()
    staff = make_user(superuser=True)
    otp_login(client, staff)
    key = exchange_admin.create_key({"USDT": "100"}, internalTransfer=True)
    response = client.post(
        "/admin/accounts/exchangeaccount/add/",
        {
            "organization": organization.pk,
            "name": "transfer key",
            "environment": "paper",
            "valuation_currency": "USDT",
            "key_type": "hmac",
            "api_key": key["apiKey"],
            "secret": key["secretKey"],
        },
    )
    assert response.status_code == 200  # the form again, with the reason
    assert b"transfer" in response.content
    assert key["secretKey"].encode() not in response.content
    assert not ExchangeAccount.objects.filter(name="transfer key").exists()
