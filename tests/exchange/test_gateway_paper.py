"""The gateway against the real paper exchange over loopback, with real Redis."""

from decimal import Decimal

import pytest

from apps.exchange.errors import BadRequestError, OrderNotFoundError
from apps.exchange.filters import OrderIntent, quantize_order


def test_public_reads_and_exchange_info_cache(paper_url, make_gateway, redis_client):
    gateway = make_gateway()
    assert gateway.ping() == {}
    info = gateway.exchange_info()
    assert redis_client.ttl(gateway.info_cache.key) > 23 * 3600
    rules = gateway.symbol_rules("BTCUSDT")
    assert rules.lot.step_size == Decimal("0.00001")
    # The limiter's budgets come from the exchange's own rateLimits.
    published = {item["rateLimitType"]: item["limit"] for item in info["rateLimits"]}
    assert gateway.limiter.limits.weight[0].limit == int(published["REQUEST_WEIGHT"] * 0.9)
    klines = gateway.klines("BTCUSDT", "1m", limit=5)
    assert len(klines) == 5


def test_headers_reconcile_the_shared_counter(paper_url, make_gateway):
    gateway = make_gateway()
    gateway.depth("BTCUSDT", limit=100)
    used_after_first = gateway.limiter.used()
    assert used_after_first >= 5
    gateway.depth("BTCUSDT", limit=500)
    assert gateway.limiter.used() >= used_after_first + 25


def test_signed_requests_order_query_and_unknown_order(paper_url, make_gateway, paper_credentials):
    credentials, _ = paper_credentials()
    gateway = make_gateway(credentials, account_id="acct-1")
    gateway.sync_time()
    assert gateway.client.REQUEST_RECVWINDOW == 5000
    balances = {b["asset"]: b["free"] for b in gateway.account()["balances"]}
    assert Decimal(balances["USDT"]) == Decimal("1000000")
    with pytest.raises(OrderNotFoundError):
        gateway.query_order("BTCUSDT", "never-sent-1")
    with pytest.raises(BadRequestError):
        gateway.request("GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "7x"})


def test_place_order_end_to_end(paper_url, make_gateway, paper_credentials):
    from apps.exchange.orders import place_order

    credentials, _ = paper_credentials()
    gateway = make_gateway(credentials, account_id="acct-2")
    average = Decimal(gateway.avg_price("BTCUSDT")["price"])
    order = quantize_order(
        gateway.symbol_rules("BTCUSDT"),
        OrderIntent("BUY", "LIMIT", Decimal("0.0123456"), average * Decimal("0.7")),
        average_price=average,
    )
    outcome = place_order(gateway, "BTCUSDT", order, "e2e-order-1")
    assert outcome.status == "placed"
    assert outcome.sends == 1
    assert outcome.order["clientOrderId"] == "e2e-order-1"
    found = gateway.query_order("BTCUSDT", "e2e-order-1")
    assert Decimal(found["origQty"]) == Decimal("0.01234")


def test_ed25519_key_signs_orders(paper_url, make_gateway, paper_admin):
    from apps.exchange.credentials import Credentials
    from apps.exchange.orders import place_order

    key = paper_admin.create_key({"USDT": "100000"}, ed25519=True)
    credentials = Credentials.from_parts(
        api_key=key["apiKey"], secret=key["privateKey"], key_type="ed25519"
    )
    gateway = make_gateway(credentials, account_id="ed-1")
    assert gateway.account()["canTrade"] is True
    average = Decimal(gateway.avg_price("BTCUSDT")["price"])
    order = quantize_order(
        gateway.symbol_rules("BTCUSDT"),
        OrderIntent("BUY", "LIMIT", Decimal("0.001"), average * Decimal("0.6")),
        average_price=average,
    )
    assert place_order(gateway, "BTCUSDT", order, "ed-order-1").status == "placed"


def test_gateways_are_reused_per_thread_and_account(paper_url, paper_credentials):
    import threading

    from apps.exchange.gateway import gateway_for

    first, _ = paper_credentials()
    rotated, _ = paper_credentials()
    one = gateway_for("paper", credentials=first, account_id=7)
    assert gateway_for("paper", credentials=first, account_id=7) is one
    assert gateway_for("paper", credentials=rotated, account_id=7) is not one
    other_thread = []
    thread = threading.Thread(
        target=lambda: other_thread.append(gateway_for("paper", credentials=first, account_id=7))
    )
    thread.start()
    thread.join()
    assert other_thread[0] is not one
