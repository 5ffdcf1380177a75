"""The Redis limiter: reservation, fair waiting, reconciliation, pauses (real Redis)."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal

import pytest

from apps.exchange.errors import IpBannedError, RateLimitedError
from apps.exchange.limiter import Limiter, Limits, WindowLimit


class FakeClock:
    def __init__(self, start=1_700_000_000_000):
        self.now = start

    def __call__(self):
        return self.now


def small_limits(weight=10, interval_ms=1000, orders=3):
    return Limits(
        (WindowLimit("request_weight:1S", interval_ms, weight),),
        (),
        (WindowLimit("orders:10S", 10 * interval_ms, orders),),
    )


def test_budget_is_a_fraction_of_the_published_limit():
    limits = Limits.from_rate_limits(
        [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
        ],
        Decimal("0.9"),
    )
    assert limits.weight[0].limit == 5400
    assert limits.weight[0].interval_ms == 60_000
    assert limits.orders[0].name == "orders:10S"
    assert limits.orders[0].limit == 45


def test_reserve_before_send_and_wait_until_the_window_ends(redis_client):
    clock = FakeClock(1_700_000_000_200)
    limiter = Limiter(redis_client, "unit", small_limits(), clock=clock)
    assert limiter.try_reserve(6, waiter="a") == (0, False)
    wait, paused = limiter.try_reserve(6, waiter="b")
    assert wait == pytest.approx(0.8)
    assert not paused
    assert limiter.used() == 6
    clock.now += 800  # next window
    assert limiter.try_reserve(6, waiter="b") == (0, False)


def test_a_request_heavier_than_the_budget_is_refused(redis_client):
    limiter = Limiter(redis_client, "unit", small_limits(), clock=FakeClock())
    with pytest.raises(RateLimitedError):
        limiter.try_reserve(11, waiter="x")


def test_order_counts_are_per_account(redis_client):
    clock = FakeClock()
    limiter = Limiter(redis_client, "unit", small_limits(weight=100), clock=clock)
    for _ in range(3):
        assert limiter.try_reserve(1, orders=1, account="a", waiter="w")[0] == 0
    assert limiter.try_reserve(1, orders=1, account="a", waiter="w")[0] > 0
    assert limiter.try_reserve(1, orders=1, account="b", waiter="w2")[0] == 0


def test_reconcile_trusts_headers_weight_up_orders_both_ways(redis_client):
    clock = FakeClock()
    limiter = Limiter(redis_client, "unit", small_limits(weight=100), clock=clock)
    limiter.try_reserve(2, orders=1, account="a", waiter="w")
    limiter.reconcile(
        sent_at_ms=clock.now, used_weights={"1S": 40}, order_counts={"10S": 0}, account="a"
    )
    assert limiter.used() == 40
    assert limiter.used("orders:10S", account="a") == 0  # a fill decremented it
    limiter.reconcile(sent_at_ms=clock.now, used_weights={"1S": 10})
    assert limiter.used() == 40  # weight never goes down within a window
    # A response sent in the previous window does not touch the new one.
    sent = clock.now
    clock.now += 1000
    limiter.reconcile(sent_at_ms=sent, used_weights={"1S": 99})
    assert limiter.used() == 0


def test_waiters_are_served_in_arrival_order(redis_client):
    limiter = Limiter(redis_client, "fair", small_limits(weight=10, interval_ms=400))
    limiter.acquire(10, max_wait=5)  # fill the current window
    served: list[str] = []

    def wait_for(name):
        limiter.acquire(10, max_wait=10)
        served.append(name)

    threads = []
    for name in "ABCD":
        thread = threading.Thread(target=wait_for, args=(name,))
        thread.start()
        threads.append(thread)
        time.sleep(0.03)
    for thread in threads:
        thread.join(15)
    assert served == list("ABCD")


def test_async_waiters_never_exceed_the_budget(redis_client):
    limiter = Limiter(redis_client, "async", small_limits(weight=10, interval_ms=300))
    sent_windows: list[int] = []

    async def one():
        await limiter.acquire_async(2, max_wait=10)
        sent_windows.append(limiter.clock() // 300)

    async def main():
        await asyncio.gather(*(one() for _ in range(20)))

    asyncio.run(main())
    per_window: dict[int, int] = {}
    for window in sent_windows:
        per_window[window] = per_window.get(window, 0) + 2
    assert max(per_window.values()) <= 10
    assert len(sent_windows) == 20


def test_pause_stops_everyone_until_retry_after(redis_client):
    limiter = Limiter(redis_client, "paused", small_limits(weight=100))
    other_process = Limiter(redis_client, "paused", small_limits(weight=100))
    limiter.pause(0.6)
    started = time.monotonic()
    other_process.acquire(1, max_wait=5)
    assert time.monotonic() - started >= 0.5


def test_ban_makes_waiting_past_max_wait_an_ip_banned_error(redis_client):
    limiter = Limiter(redis_client, "banned", small_limits(weight=100))
    limiter.pause(30, banned=True)
    assert limiter.banned()
    with pytest.raises(IpBannedError):
        limiter.acquire(1, max_wait=0.2)
