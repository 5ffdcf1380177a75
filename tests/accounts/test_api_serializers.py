"""API JSON of accounts and keys: masks only; the secret is accepted but never rendered."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from apps.accounts.api.serializers import ExchangeAccountSerializer
from apps.accounts.models import ExchangeAccount
from tests.accounts.factories import fake_api_key, fake_secret, make_org, member, verified

pytestmark = pytest.mark.django_db


def test_created_account_renders_masks_and_never_the_secret():
    organization = make_org()
    admin = member(organization, "admin")
    secret, api_key = fake_secret(), fake_api_key()
    serializer = ExchangeAccountSerializer(
        data={
            "organization": organization.pk,
            "name": "api account",
            "environment": "testnet",
            "valuation_currency": "USDT",
            "api_key": api_key,
            "secret": secret,
        },
        context={"actor": verified(admin)},
    )
    assert serializer.is_valid(), serializer.errors
    account = serializer.save()
    body = JSONRenderer().render(ExchangeAccountSerializer(account).data).decode()
    assert secret not in body
    assert api_key not in body
    data = json.loads(body)
    assert "secret" not in data
    assert "api_key" not in data
    assert data["key_pairs"][0]["secret_mask"] == f"{secret[:4]}…{secret[-4:]}"
    assert data["environment"] == "testnet"
    assert ExchangeAccount.objects.get().name == "api account"
