"""Time sync (RTT-compensated median) and Redis-backed circuit breakers."""

from __future__ import annotations

import time

import pytest

from apps.exchange.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from apps.exchange.errors import CircuitOpenError
from apps.exchange.timesync import TimeSync, measure_offset


def test_offset_is_the_rtt_compensated_median():
    # Local clock in ns; each fetch takes 20 ms, the server is 1,000 ms ahead, and
    # one sample is distorted by a 400 ms stall.
    state = {"now": 1_000_000_000_000_000}
    stalls = iter([0, 0, 400, 0, 0])

    def clock():
        return state["now"]

    def fetch():
        stall = next(stalls)
        state["now"] += (10 + stall) * 1_000_000
        server = state["now"] // 1_000_000 + 1000
        state["now"] += 10 * 1_000_000
        return server

    measured = measure_offset(fetch, 5, clock=clock)
    assert measured.offset_ms == 1000
    assert measured.rtt_ms == 20


def test_offset_is_shared_and_refreshed_against_the_paper_exchange(
    paper_url, make_gateway, redis_client
):
    gateway = make_gateway()
    measured = gateway.sync_time()
    assert abs(measured.offset_ms) < 50  # same machine
    assert TimeSync(redis_client, "paper").current().offset_ms == measured.offset_ms


def test_breaker_opens_after_consecutive_failures_and_probes(redis_client, settings):
    settings.EXCHANGE_BREAKER_FAILURES = 3
    settings.EXCHANGE_BREAKER_OPEN_SECONDS = 0.3
    breaker = CircuitBreaker(redis_client, "acct", "trading")
    other_worker = CircuitBreaker(redis_client, "acct", "trading")
    for _ in range(3):
        breaker.before_call()
        breaker.record(False)
    assert other_worker.state() == OPEN
    with pytest.raises(CircuitOpenError) as refused:
        other_worker.before_call()
    assert 0 < refused.value.retry_after <= 0.3  # when the probe may go
    time.sleep(0.35)
    assert other_worker.state() == HALF_OPEN
    other_worker.before_call()  # the one probe
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # a second caller while the probe runs
    other_worker.record(False)
    assert breaker.state() == OPEN  # the probe failed
    time.sleep(0.35)
    breaker.before_call()
    breaker.record(True)
    assert other_worker.state() == CLOSED
    assert CircuitBreaker(redis_client, "acct", "market").state() == CLOSED


def test_breaker_opens_on_error_rate(redis_client, settings):
    settings.EXCHANGE_BREAKER_FAILURES = 100
    settings.EXCHANGE_BREAKER_MIN_CALLS = 10
    settings.EXCHANGE_BREAKER_ERROR_RATE = 0.5
    breaker = CircuitBreaker(redis_client, "acct2", "account")
    for index in range(10):
        breaker.record(index % 2 == 0)  # alternating: never 100 in a row
    assert breaker.state() == OPEN


def test_minus_1021_resyncs_at_once_and_the_read_succeeds(
    fault_proxy, make_gateway, paper_credentials, redis_client
):
    credentials, _ = paper_credentials()
    gateway = make_gateway(credentials, account_id="clock-1")
    first = gateway.sync_time()
    time.sleep(0.01)
    fault_proxy.plan.timestamp_rejections = 1
    assert gateway.account()["canTrade"] is True
    assert fault_proxy.plan.injected["timestamp_1021"] == 1
    assert TimeSync(redis_client, "paper").current().measured_at > first.measured_at


def test_order_rejected_for_its_timestamp_is_resent_once_with_the_same_id(
    fault_proxy, make_gateway, paper_credentials
):
    from decimal import Decimal

    from apps.exchange.filters import OrderIntent, quantize_order
    from apps.exchange.orders import place_order

    credentials, _ = paper_credentials()
    gateway = make_gateway(credentials, account_id="clock-2")
    average = Decimal(gateway.avg_price("BTCUSDT")["price"])
    order = quantize_order(
        gateway.symbol_rules("BTCUSDT"),
        OrderIntent("BUY", "LIMIT", Decimal("0.001"), average * Decimal("0.5")),
        average_price=average,
    )
    fault_proxy.plan.timestamp_rejections = 1
    outcome = place_order(gateway, "BTCUSDT", order, "clock-order-1")
    assert outcome.status == "placed"
    assert outcome.sends == 2
    assert [o["clientOrderId"] for o in gateway.open_orders("BTCUSDT")] == ["clock-order-1"]


def test_connection_attempts_share_a_budget(redis_client):
    from decimal import Decimal

    from apps.exchange.limiter import ConnectionAttemptLimiter

    limiter = ConnectionAttemptLimiter(redis_client, "ws-test", fraction=Decimal("0.01"))
    assert limiter.limits.weight[0].limit == 3
    for _ in range(3):
        assert limiter.try_reserve(1, waiter="w")[0] == 0
    assert limiter.try_reserve(1, waiter="w")[0] > 0


def _age_the_offset(redis_client, seconds: float) -> dict:
    """Make the shared offset `seconds` old, as if beat had not refreshed it since."""
    import json

    from apps.exchange import timesync

    data = json.loads(redis_client.get("exchange:time-offset:paper"))
    data["measured_at"] -= seconds
    redis_client.set("exchange:time-offset:paper", json.dumps(data))
    timesync._FAILED_AT.clear()
    return data


def test_a_stale_offset_serves_while_the_time_endpoint_is_down(
    fault_proxy, make_gateway, paper_credentials, redis_client, settings
):
    settings.EXCHANGE_TIME_SYNC_MAX_AGE = 60
    credentials, _ = paper_credentials()
    make_gateway(credentials, account_id="beat").sync_time()
    stale = _age_the_offset(redis_client, 120)
    gateway = make_gateway(credentials, account_id="clock-3")
    fault_proxy.plan.time_failures = 1
    assert gateway.account()["canTrade"] is True  # signed with the stale offset
    assert fault_proxy.plan.injected["time_502"] == 1
    assert TimeSync(redis_client, "paper").current(fresh=True).measured_at == stale["measured_at"]
    seen = fault_proxy.plan.requests_seen
    gateway.account()
    assert fault_proxy.plan.requests_seen == seen + 1  # no new attempt right after a failure


def test_with_no_offset_a_failed_measurement_fails_the_request_unsent(
    fault_proxy, make_gateway, paper_credentials, redis_client
):
    from apps.exchange.errors import TemporaryExchangeError

    credentials, _ = paper_credentials()
    redis_client.delete("exchange:time-offset:paper")
    gateway = make_gateway(credentials, account_id="clock-4")
    fault_proxy.plan.time_failures = 1000
    seen = fault_proxy.plan.requests_seen
    with pytest.raises(TemporaryExchangeError):
        gateway.account()  # retried, and every attempt fails to measure
    sent = fault_proxy.plan.requests_seen - seen
    assert sent == fault_proxy.plan.injected["time_502"] > 1  # time samples only: unsigned


def test_threads_of_one_process_measure_a_stale_offset_once(
    fault_proxy, make_gateway, paper_credentials, redis_client, settings
):
    from concurrent.futures import ThreadPoolExecutor

    settings.EXCHANGE_TIME_SYNC_MAX_AGE = 60
    settings.EXCHANGE_TIME_SYNC_SAMPLES = 5
    credentials, _ = paper_credentials()
    make_gateway(credentials, account_id="beat").sync_time()
    _age_the_offset(redis_client, 120)
    gateways = [make_gateway(credentials, account_id=f"herd-{i}") for i in range(8)]
    seen = fault_proxy.plan.requests_seen
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda g: g.account()["canTrade"], gateways))
    assert results == [True] * 8
    # Eight signed requests and one measurement of five samples (not eight of them).
    assert fault_proxy.plan.requests_seen - seen == 8 + 5
