"""Key verification against the paper exchange (apiRestrictions) and a testnet-style
peer without /sapi (signed account endpoint)."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.exchange.credentials import Credentials
from apps.exchange.keys import KeyVerification, verify_api_key


def test_key_with_withdrawals_is_refused_with_a_clear_message(
    paper_url, paper_credentials, redis_client
):
    credentials, _ = paper_credentials(withdrawals=True)
    result = verify_api_key("paper", credentials, redis_client=redis_client)
    assert not result.accepted
    assert result.can_withdraw is True
    assert "can withdraw funds" in result.message
    assert result.as_dict()["refusals"]


def test_plain_trading_key_is_accepted_with_an_ip_warning(
    paper_url, paper_credentials, redis_client
):
    credentials, _ = paper_credentials()
    result = verify_api_key("paper", credentials, redis_client=redis_client)
    assert result.accepted
    assert result.method == "api_restrictions"
    assert result.can_trade
    assert result.can_withdraw is False
    assert any("not restricted to trusted IP" in str(w) for w in result.warnings)


def test_wrong_secret_is_refused_not_raised(paper_url, paper_credentials, redis_client):
    credentials, _ = paper_credentials()
    wrong = Credentials(api_key=credentials.api_key, api_secret="x" * 64)
    result = verify_api_key("paper", wrong, redis_client=redis_client)
    assert not result.accepted
    assert "refused this key" in result.message
    assert "x" * 64 not in str(result.as_dict())


def test_testnet_style_key_is_verified_through_the_account_endpoint(
    fault_proxy, paper_credentials, redis_client, settings
):
    settings.EXCHANGE_TESTNET_URL = fault_proxy.url
    fault_proxy.plan.block_sapi = True
    credentials, _ = paper_credentials()
    result = verify_api_key("testnet", credentials, redis_client=redis_client)
    assert result.accepted
    assert result.method == "account"
    assert result.can_trade
    assert result.can_withdraw is None  # not applicable on the testnet
    assert fault_proxy.plan.injected["sapi_blocked"] == 0  # /sapi was never asked


def test_expiring_trading_authority_is_reported():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    soon = int((now + dt.timedelta(days=3)).timestamp() * 1000)
    result = KeyVerification(
        "live", True, now, "api_restrictions", trading_authority_expires_ms=soon
    )
    assert result.expires_within(14, now)
    assert not result.expires_within(2, now)


@pytest.mark.django_db
def test_alert_before_trading_authority_expires():
    from apps.exchange.keys import alert_if_expiring
    from apps.monitoring.models import Alert

    now = dt.datetime.now(dt.UTC)
    soon = int((now + dt.timedelta(days=3)).timestamp() * 1000)
    later = int((now + dt.timedelta(days=60)).timestamp() * 1000)
    expiring = KeyVerification(
        "live", True, now, "api_restrictions", trading_authority_expires_ms=soon
    )
    fine = KeyVerification(
        "live", True, now, "api_restrictions", trading_authority_expires_ms=later
    )
    assert alert_if_expiring(expiring, account_label="desk-1")
    assert not alert_if_expiring(fine, account_label="desk-2")
    alert = Alert.objects.get(event="exchange_key_expiring")
    assert alert.severity == "warning"
    assert "desk-1" in alert.message


def test_paper_key_records_its_trading_authority_expiry(paper_url, paper_credentials, redis_client):
    credentials, _ = paper_credentials()
    result = verify_api_key("paper", credentials, redis_client=redis_client)
    assert result.trading_authority_expires_ms is not None
    assert not result.expires_within(14)  # a fresh key has about 90 days


def test_adapter_for_the_accounts_apps_credentials(paper_url, paper_credentials, redis_client):
    from types import SimpleNamespace

    from apps.exchange.keys import verify_account_credentials

    _, key = paper_credentials(withdrawals=True)
    decrypted = SimpleNamespace(
        environment="paper", api_key=key["apiKey"], secret=key["secretKey"], key_type="hmac"
    )
    result = verify_account_credentials(decrypted, redis_client=redis_client)
    assert not result.accepted
    assert result.can_withdraw is True
