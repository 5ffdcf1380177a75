"""Celery task messages carry ids and plain values, never a secret.

The trading tasks are enqueued through the real code paths (candle fan-out, the
reconciliation fan-out, a signed signal webhook) into the real Redis broker, with no
worker draining it; then every message body in Redis is decoded and searched for the
account's API key and secret and the webhook's secret.
"""

import base64
import json
import time
import uuid

import pytest
from django.test import Client

from apps.strategies.webhooks import enable_webhook, signature
from apps.trading.cycle.fanout import fan_out
from apps.trading.reconcile_tasks import reconcile_all_accounts
from tests.accounts.factories import fake_api_key, fake_secret, make_org, member, verified
from tests.trading.cycle.support import enabled_config
from tests.trading.support import active_account, sync_default_symbols

pytestmark = pytest.mark.django_db


def _broker_messages(redis) -> list[str]:
    """Every queued message in the broker, with its base64 body decoded."""
    texts = []
    for key in redis.scan_iter(count=1000):
        if redis.type(key) not in ("list", b"list"):
            continue
        for raw in redis.lrange(key, 0, -1):
            raw = raw.decode() if isinstance(raw, bytes) else raw
            message = json.loads(raw)
            body = message.get("body", "")
            if message.get("properties", {}).get("body_encoding") == "base64":
                body = base64.b64decode(body).decode()
            texts.append(f"{raw} {body}")
    return texts


def test_no_secret_reaches_a_task_message(redis_client, django_capture_on_commit_callbacks):
    sync_default_symbols()
    organization = make_org()
    trader = member(organization, "trader")
    api_key, secret = fake_api_key(), fake_secret()
    account = active_account(organization, api_key=api_key, secret=secret)
    config = enabled_config(account, symbols=("BTCUSDT",), interval="1h")
    issued = enable_webhook(actor=verified(trader), config=config)

    assert fan_out("paper", "BTCUSDT", "1h", 1_700_000_000_000) == 1
    assert reconcile_all_accounts() >= 1
    body = json.dumps({"action": "buy", "symbol": "BTCUSDT"}).encode()
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    with django_capture_on_commit_callbacks(execute=True):  # the view enqueues on commit
        response = Client().post(
            issued.path,
            data=body,
            content_type="application/json",
            HTTP_X_SPOTDESK_TIMESTAMP=timestamp,
            HTTP_X_SPOTDESK_NONCE=nonce,
            HTTP_X_SPOTDESK_SIGNATURE="sha256=" + signature(issued.secret, timestamp, nonce, body),
        )
    assert response.status_code == 202, response.content

    messages = _broker_messages(redis_client)
    task_names = " ".join(messages)
    # The scan sees the three trading tasks and their arguments...
    for task in ("run_cycle_group", "reconcile_account_task", "evaluate_webhook_signal_task"):
        assert task in task_names
    assert any(f"[{config.pk}]" in text for text in messages)
    # ...and none of the secrets, whole or in part.
    for text in messages:
        for value in (api_key, secret, issued.secret):
            assert value not in text
            assert value[-24:] not in text
