"""The gateway's contract checks against the real Binance Spot testnet.

Skipped unless BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET are set:

    BINANCE_TESTNET_API_KEY=... BINANCE_TESTNET_API_SECRET=... \\
        .venv/bin/pytest tests/exchange -m testnet -q
"""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

from apps.exchange.credentials import Credentials
from apps.exchange.errors import OrderNotFoundError
from apps.exchange.filters import OrderIntent, quantize_order

KEY = os.environ.get("BINANCE_TESTNET_API_KEY")
SECRET = os.environ.get("BINANCE_TESTNET_API_SECRET")
pytestmark = [
    pytest.mark.testnet,
    pytest.mark.skipif(not (KEY and SECRET), reason="BINANCE_TESTNET_API_KEY/SECRET not set"),
]
SYMBOL = "BTCUSDT"


@pytest.fixture
def testnet(redis_client, egress):
    from apps.exchange.gateway import ExchangeGateway

    credentials = Credentials(api_key=KEY, api_secret=SECRET)
    return ExchangeGateway(
        "testnet",
        credentials=credentials,
        account_id="testnet-contract",
        redis_client=redis_client,
        egress=egress,
    )


def test_time_info_and_headers(testnet):
    measured = testnet.sync_time()
    assert abs(measured.offset_ms) < 60_000
    rules = testnet.symbol_rules(SYMBOL)
    assert rules.lot.step_size > 0
    assert rules.price.tick_size > 0
    testnet.depth(SYMBOL, limit=5)
    assert testnet.limiter.used() > 0  # reconciled from X-MBX-USED-WEIGHT-1M


def test_key_is_verified_through_the_account_endpoint(redis_client):
    from apps.exchange.keys import verify_api_key

    result = verify_api_key(
        "testnet", Credentials(api_key=KEY, api_secret=SECRET), redis_client=redis_client
    )
    assert result.accepted
    assert result.method == "account"
    assert result.can_withdraw is None


def test_order_lifecycle_by_client_id(testnet):
    from apps.exchange.orders import place_order

    average = Decimal(testnet.avg_price(SYMBOL)["price"])
    order = quantize_order(
        testnet.symbol_rules(SYMBOL),
        OrderIntent("BUY", "LIMIT", Decimal("0.001"), average * Decimal("0.8")),
        average_price=average,
    )
    client_id = f"spotdesk-contract-{int(time.time())}"
    outcome = place_order(testnet, SYMBOL, order, client_id)
    assert outcome.status == "placed"
    assert testnet.query_order(SYMBOL, client_id)["clientOrderId"] == client_id
    testnet.cancel_order(SYMBOL, client_id)
    with pytest.raises(OrderNotFoundError):
        testnet.query_order(SYMBOL, "spotdesk-never-sent")
