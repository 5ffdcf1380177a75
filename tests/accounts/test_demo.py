"""The demo prints each new login once, and the printed secrets really log in."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP

from apps.accounts.models import ExchangeAccount, Membership
from apps.audit.verify import verify_chains
from apps.core.demo import ensure_demo_superuser

pytestmark = pytest.mark.django_db


def _totp_now(uri: str) -> str:
    import base64

    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return str(TOTP(key).token()).zfill(6)


def test_demo_logins_are_printed_once_and_work():
    ensure_demo_superuser()
    out = io.StringIO()
    call_command("seed_demo_accounts", stdout=out)
    text = out.getvalue()
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {
        "demo-viewer": "viewer",
        "demo-trader": "trader",
        "demo-risk": "risk_officer",
        "demo-admin": "admin",
    }
    assert text.count("TOTP: otpauth://totp/") == 4  # superuser + three money roles
    # Exchange accounts come from the trading demo, with keys the paper exchange knows.
    assert not ExchangeAccount.objects.exists()

    trader = re.search(r"demo-trader\s+trader\s+password: (\S+)\n\s+TOTP: (\S+)", text)
    client = Client()
    response = client.post(
        "/accounts/login/",
        {
            "username": "demo-trader",
            "password": trader.group(1),
            "otp_token": _totp_now(trader.group(2)),
        },
    )
    assert response.status_code == 302

    again = io.StringIO()
    call_command("seed_demo_accounts", stdout=again)
    assert "password:" not in again.getvalue()
    assert "exist" in again.getvalue()
    assert all(r.ok for r in verify_chains())


def test_enrol_otp_replaces_the_authenticator_and_prints_it_once():
    ensure_demo_superuser()
    out = io.StringIO()
    call_command("enrol_otp", "demo", stdout=out)
    uri = re.search(r"(otpauth://\S+)", out.getvalue()).group(1)
    second = io.StringIO()
    call_command("enrol_otp", "demo", stdout=second)
    assert re.search(r"(otpauth://\S+)", second.getvalue()).group(1) != uri
