"""End to end on a real Celery worker: a closed candle fanned out from this process
becomes decisions and filled entries written by the worker; a duplicate delivery of
the same candle places nothing more."""

import pytest

from apps.exchange.for_account import gateway_for_account
from apps.trading.cycle.fanout import fan_out
from apps.trading.models import Decision, Order
from apps.trading.states import OrderStatus

from .support import (
    breakout_klines,
    enabled_config,
    last_closed_open_ms,
    market_price,
    store_klines,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _execution_idle() -> bool:
    """Nothing waiting on `execution` and nothing delivered but unacknowledged (read
    without emptying Redis: that would drop the running workers' queue bindings)."""
    from apps.core.redis import get_redis
    from apps.monitoring.collectors import queue_lengths

    broker = get_redis()
    return queue_lengths(broker).get("execution", 0) == 0 and not broker.hlen("unacked")


def test_a_closed_candle_reaches_the_worker_and_trades_each_account_once(
    paper_account, cycle_worker, wait_until
):
    configs = [enabled_config(paper_account({"USDT": "10000"})) for _ in range(3)]
    open_ms = last_closed_open_ms()
    price = market_price(gateway_for_account(configs[0].account))
    store_klines("paper", "BTCUSDT", "1m", breakout_klines(price, open_ms))

    assert fan_out("paper", "BTCUSDT", "1m", open_ms) == 1  # one group for three accounts
    assert fan_out("paper", "BTCUSDT", "1m", open_ms) == 1  # a duplicate delivery

    entries = Order.objects.filter(strategy_config__in=configs, intent="entry")
    wait_until(
        lambda: entries.filter(status=OrderStatus.FILLED).count() == 3,
        timeout=60,
        message=f"no filled entries; worker log:\n{cycle_worker.output()[-4000:]}",
    )
    # Let the duplicate task run too (on this worker or on any other worker of the
    # session: both reach the same exchange and database), then count: nothing doubled.
    wait_until(_execution_idle, timeout=60)
    assert entries.count() == 3
    for config in configs:
        decision = Decision.objects.get(strategy_config=config)
        assert decision.signal == "enter_long"
        assert decision.orders_placed == [entries.get(strategy_config=config).client_order_id]
