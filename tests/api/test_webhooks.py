"""Signal webhooks: issuing secrets, every refusal (unsigned, mis-signed, stale,
replayed, invalid), and accepted signals going through the trading cycle against the
paper exchange."""

import json
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from apps.accounts.actors import Actor
from apps.audit.models import AuditEvent
from apps.core.errors import ConflictError, NotFound, PermissionDenied
from apps.exchange.for_account import gateway_for_account
from apps.strategies.models import SignalWebhook
from apps.strategies.webhooks import (
    disable_webhook,
    enable_webhook,
    rotate_webhook_secret,
    signature,
)
from apps.trading.models import Decision, Order, Position
from apps.trading.states import OrderStatus
from apps.trading.webhook_signals import evaluate_webhook_signal
from tests.accounts.factories import make_org, member, verified
from tests.trading.cycle.support import enabled_config, market_price
from tests.trading.support import active_account, make_config, sync_default_symbols


def _headers(secret: str, body: bytes, *, timestamp=None, nonce=None) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or uuid.uuid4().hex
    return {
        "HTTP_X_SPOTDESK_TIMESTAMP": timestamp,
        "HTTP_X_SPOTDESK_NONCE": nonce,
        "HTTP_X_SPOTDESK_SIGNATURE": "sha256=" + signature(secret, timestamp, nonce, body),
    }


def _post(issued, payload, *, headers=None, body=None, **signing):
    body = json.dumps(payload).encode() if body is None else body
    headers = _headers(issued.secret, body, **signing) if headers is None else headers
    return Client().post(issued.path, data=body, content_type="application/json", **headers)


def _refusals(config) -> list[dict]:
    events = AuditEvent.objects.filter(
        action="strategy_config.webhook_refused", object_id=str(config.pk)
    ).order_by("id")
    return [e.changes for e in events]


@pytest.fixture
def webhook(db, redis_client):
    """(config, issued webhook) of a trader's organization."""
    sync_default_symbols()
    organization = make_org()
    trader = member(organization, "trader")
    config = make_config(active_account(organization), symbols=("BTCUSDT", "ETHUSDT"))
    issued = enable_webhook(actor=verified(trader), config=config)
    return config, issued


BUY = {"action": "buy", "symbol": "BTCUSDT", "stop": "58000", "target": "66000", "price": "60000"}


# --- issuing ----------------------------------------------------------------------


def test_the_secret_is_shown_once_and_stored_encrypted(webhook):
    config, issued = webhook
    assert issued.secret.startswith("whsec_")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM strategies_signalwebhook WHERE id = %s", [issued.webhook.pk]
        )
        (stored,) = cursor.fetchone()
    assert issued.secret not in stored
    row = SignalWebhook.objects.get(config=config)
    assert row.secret.reveal() == issued.secret
    assert issued.secret not in str(row.secret)
    assert issued.secret not in row.secret_mask
    enabled = AuditEvent.objects.get(action="strategy_config.webhook_enabled")
    assert issued.secret not in json.dumps(enabled.changes)


def test_enabling_twice_is_a_conflict_and_only_traders_of_the_organization_may(webhook):
    config, _ = webhook
    trader = member(config.account.organization, "trader")
    with pytest.raises(ConflictError):
        enable_webhook(actor=verified(trader), config=config)
    viewer = member(config.account.organization, "viewer")
    with pytest.raises(PermissionDenied):
        rotate_webhook_secret(actor=verified(viewer), config=config)
    stranger = member(make_org(), "admin")
    with pytest.raises(NotFound):
        disable_webhook(actor=verified(stranger), config=config)


def test_rotation_refuses_the_old_secret_and_accepts_the_new_one(webhook):
    config, old = webhook
    new = rotate_webhook_secret(actor=Actor.for_system(), config=config)
    assert new.webhook.token == old.webhook.token
    assert new.secret != old.secret
    refused = _post(old, BUY)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "signature_invalid"
    assert _post(new, BUY).status_code == 202


def test_a_disabled_webhook_answers_not_found_and_can_be_enabled_with_a_new_secret(webhook):
    config, issued = webhook
    assert disable_webhook(actor=Actor.for_system(), config=config)
    response = _post(issued, BUY)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    again = enable_webhook(actor=Actor.for_system(), config=config)
    assert again.secret != issued.secret
    assert _post(again, BUY).status_code == 202


# --- refusals ---------------------------------------------------------------------


def test_an_unsigned_request_is_refused_and_audited(webhook):
    config, issued = webhook
    response = _post(issued, BUY, headers={})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "signature_missing"
    assert "X-Spotdesk-Signature" in error["message"]
    assert [r["code"] for r in _refusals(config)] == ["signature_missing"]


def test_a_mis_signed_or_altered_request_is_refused_and_audited(webhook):
    config, issued = webhook
    body = json.dumps(BUY).encode()
    headers = _headers(issued.secret, body)
    tampered = body.replace(b"58000", b"18000")
    assert _post(issued, None, body=tampered, headers=headers).status_code == 401
    wrong_key = _headers("whsec_not-the-secret", body)
    response = _post(issued, None, body=body, headers=wrong_key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"
    assert [r["code"] for r in _refusals(config)] == ["signature_invalid"] * 2
    assert not Decision.objects.exists()


def test_a_stale_request_is_refused_either_way_of_the_window(webhook, settings):
    config, issued = webhook
    settings.SIGNAL_WEBHOOK_WINDOW_SECONDS = 30
    for skew in (-31, 31):
        response = _post(issued, BUY, timestamp=int(time.time()) + skew)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "stale_request"
    assert _post(issued, BUY, timestamp=int(time.time()) - 25).status_code == 202
    settings.SIGNAL_WEBHOOK_WINDOW_SECONDS = 10  # configurable
    assert _post(issued, BUY, timestamp=int(time.time()) - 25).status_code == 401
    assert [r["code"] for r in _refusals(config)] == ["stale_request"] * 3


def test_a_replayed_nonce_is_refused_and_a_bad_signature_does_not_spend_it(webhook):
    config, issued = webhook
    body = json.dumps(BUY).encode()
    forged = _headers("whsec_forged", body, nonce="nonce-0001")
    assert _post(issued, None, body=body, headers=forged).status_code == 401
    headers = _headers(issued.secret, body, nonce="nonce-0001")
    assert _post(issued, None, body=body, headers=headers).status_code == 202
    replay = _post(issued, None, body=body, headers=headers)
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "replayed_request"
    assert [r["code"] for r in _refusals(config)] == ["signature_invalid", "replayed_request"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**BUY, "action": "short"}, "action"),
        ({**BUY, "symbol": "DOGEUSDT"}, "symbol"),
        ({**BUY, "stop": "61000"}, "stop"),
        ({**BUY, "target": "59000"}, "target"),
        ({**BUY, "stop": "-1"}, "stop"),
        ({**BUY, "price": True}, "price"),
        ({**BUY, "qty": "1"}, "qty"),
        (["buy"], "body"),
    ],
)
def test_an_invalid_signal_names_the_field_and_is_audited(webhook, payload, field):
    config, issued = webhook
    response = _post(issued, payload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]
    assert _refusals(config)[-1]["fields"] == error["fields"]


def test_an_unknown_token_is_not_found(db):
    response = Client().post("/api/webhooks/signals/nope/", data=b"{}", content_type="x/y")
    assert response.status_code == 404
    assert Client().get("/api/webhooks/signals/nope/").status_code == 405


def test_an_accepted_signal_is_audited_and_queued_after_commit(
    webhook, django_capture_on_commit_callbacks
):
    config, issued = webhook
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(issued, {"action": "exit", "symbol": "ethusdt"})
    assert response.status_code == 202
    assert response.json()["signal"] == {
        "action": "exit", "symbol": "ETHUSDT", "stop": None, "target": None, "price": None
    }  # fmt: skip
    assert len(callbacks) == 1
    accepted = AuditEvent.objects.get(action="strategy_config.webhook_signal")
    assert accepted.changes["nonce"] == response.json()["nonce"]
    assert SignalWebhook.objects.get(config=config).last_signal_at is not None


# --- accepted signals through the cycle ---------------------------------------------


def _buy_signal(account) -> dict:
    price = market_price(gateway_for_account(account))
    return {
        "action": "buy",
        "symbol": "BTCUSDT",
        "stop": str((price * Decimal("0.98")).quantize(Decimal("0.01"))),
        "target": str((price * Decimal("1.06")).quantize(Decimal("0.01"))),
        "price": None,
    }


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_accepted_buy_produces_a_decision_and_a_filled_entry(paper_account):
    config = enabled_config(paper_account({"USDT": "10000"}))
    signal = _buy_signal(config.account)
    received = int(time.time() * 1000)

    result = evaluate_webhook_signal(
        config_id=config.pk, nonce="n-accepted-1", signal=signal, received_ms=received
    )
    again = evaluate_webhook_signal(
        config_id=config.pk, nonce="n-accepted-1", signal=signal, received_ms=received
    )

    assert (str(result), str(again)) == ("evaluated", "skipped")  # redelivery: once
    decision = Decision.objects.get(strategy_config=config)
    assert decision.inputs["trigger"] == "webhook:n-accepted-1"
    assert decision.inputs["candle_source"] == "webhook"
    assert decision.signal == "enter_long"
    assert decision.signal_reason == "webhook signal: buy"
    assert decision.outcome in ("approved", "resized")
    assert decision.inputs["signal"]["stop"] == signal["stop"]
    order = Order.objects.get(strategy_config=config, intent="entry")
    assert order.status == OrderStatus.FILLED
    assert decision.orders_placed == [order.client_order_id]
    position = Position.objects.get(strategy_config=config, status="open")
    assert position.stop_price == Decimal(decision.risk_verdict["stop"])


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_signal_for_a_paused_account_is_decided_but_not_traded(paper_account):
    config = enabled_config(paper_account({"USDT": "10000"}))
    from apps.accounts.services import pause_account

    pause_account(actor=Actor.for_system(), account=config.account)
    evaluate_webhook_signal(
        config_id=config.pk,
        nonce="n-paused-1",
        signal=_buy_signal(config.account),
        received_ms=int(time.time() * 1000),
    )
    decision = Decision.objects.get(strategy_config=config)
    assert decision.inputs["entry_blocked"] == "account is paused"
    assert not Order.objects.filter(strategy_config=config).exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_signed_request_is_evaluated_by_the_worker(
    paper_account,
    cycle_worker,
    wait_until,
):
    config = enabled_config(paper_account({"USDT": "10000"}))
    issued = enable_webhook(actor=Actor.for_system(), config=config)
    signal = {k: v for k, v in _buy_signal(config.account).items() if v is not None}

    response = _post(issued, signal)

    assert response.status_code == 202
    decision = wait_until(
        lambda: Decision.objects.filter(strategy_config=config).first(), timeout=60
    )
    assert decision.inputs["trigger"] == f"webhook:{response.json()['nonce']}"
    order = wait_until(
        lambda: Order.objects.filter(strategy_config=config, status=OrderStatus.FILLED).first()
    )
    assert decision.orders_placed == [order.client_order_id]
