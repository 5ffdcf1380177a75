"""Issue 8's chaos run: the worker is killed (SIGKILL) in the middle of placing orders
and restarted, the exchange answers a fifth of order requests with "unknown status",
and no user-data stream runs while the market moves a minute. After reconciliation:
no duplicate order, no lost fill, each position equal to its attributed fills, and no
position without a stop on the exchange."""

from __future__ import annotations

import os
import signal
from decimal import Decimal

import pytest

from apps.exchange.for_account import gateway_for_account
from apps.trading.cycle.fanout import fan_out
from apps.trading.models import Decision, Fill, Order, Position
from apps.trading.reconciliation import reconcile_account
from apps.trading.states import OrderStatus

from .support import (
    breakout_klines,
    enabled_config,
    last_closed_open_ms,
    market_price,
    store_klines,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
ACCOUNTS = 6
# Short leases so the restarted worker takes over within seconds, not minutes.
FAST_RECOVERY = {
    "CELERY_BROKER_VISIBILITY_TIMEOUT": "5",
    "TRADING_ACCOUNT_LOCK_TTL_SECONDS": "4",
    "TRADING_CYCLE_BUSY_RETRY_SECONDS": "2",
}


def _faults(admin, body):
    admin.session.delete(f"{admin.url}/admin/faults", timeout=10).raise_for_status()
    if body:
        admin.session.post(f"{admin.url}/admin/faults", json=body, timeout=10).raise_for_status()


def test_kill_9_unknown_outcomes_and_a_silent_stream_lose_and_double_nothing(
    paper_account, exchange_admin, start_cycle_worker, wait_until
):
    configs = [enabled_config(paper_account({"USDT": "10000"})) for _ in range(ACCOUNTS)]
    gateways = {c.account_id: gateway_for_account(c.account) for c in configs}
    open_ms = last_closed_open_ms()
    price = market_price(gateways[configs[0].account_id])
    store_klines("paper", "BTCUSDT", "1m", breakout_klines(price, open_ms))
    _faults(exchange_admin, {
        "seed": "chaos-8",
        "rules": [
            # Slow first orders: the worker is killed while it waits on one.
            {"kind": "latency", "group": "trading", "ms": 3000, "count": 2},
            {"kind": "accepted_unknown", "group": "trading", "probability": 0.2},
        ],
    })  # fmt: skip
    try:
        first = start_cycle_worker(**FAST_RECOVERY)
        assert fan_out("paper", "BTCUSDT", "1m", open_ms) == 1
        wait_until(
            lambda: Order.objects.filter(strategy_config__in=configs).exists(),
            timeout=60,
            message=first.output()[-3000:],
        )
        os.killpg(first.popen.pid, signal.SIGKILL)  # mid-placement: rows written, sends pending
        first.popen.wait()

        second = start_cycle_worker(**FAST_RECOVERY)
        decided = Decision.objects.filter(strategy_config__in=configs, signal="enter_long")
        wait_until(
            lambda: decided.values("strategy_config").distinct().count() == ACCOUNTS,
            timeout=120,
            message=second.output()[-4000:],
        )
        # The market moves a minute with no user-data stream listening.
        exchange_admin.session.post(
            f"{exchange_admin.url}/admin/clock/advance", json={"ms": 60_000}, timeout=60
        ).raise_for_status()
    finally:
        _faults(exchange_admin, None)

    # Reconciliation once nothing is in flight any more (the grace period for orders
    # whose send may still arrive is over: everything that was sent has been answered).
    for config in configs:
        for _ in range(2):
            reconcile_account(
                config.account, gateway=gateways[config.account_id], unresolved_after=0
            )

    for config in configs:
        gateway = gateways[config.account_id]
        on_exchange = gateway.request(
            "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}, signed=True
        )
        entries = [o for o in on_exchange if o["side"] == "BUY"]
        # No duplicate: at most one entry per account on the exchange (an entry whose
        # send never happened is closed as such, never sent late), one client id each.
        assert len(entries) <= 1, entries
        assert len({o["clientOrderId"] for o in on_exchange}) == len(on_exchange)
        ours = Order.objects.filter(account=config.account)
        assert {o["clientOrderId"] for o in on_exchange} <= set(
            ours.values_list("client_order_id", flat=True)
        )
        assert not ours.filter(status__in=[OrderStatus.PENDING, OrderStatus.UNKNOWN]).exists()
        # No lost fill: every exchange trade is booked once.
        trades = gateway.request("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, signed=True)
        booked = set(Fill.objects.filter(account=config.account).values_list(
            "exchange_trade_id", flat=True))  # fmt: skip
        assert {t["id"] for t in trades} == booked
        # Each position equals its attributed fills; none is left without a stop.
        for position in Position.objects.filter(account=config.account, status="open"):
            fills = position.fills.all()
            held = (
                sum(
                    (f.quantity - (f.commission if f.commission_asset == "BTC" else 0))
                    * (1 if f.side == "BUY" else -1)
                    for f in fills
                )
                + position.carried_quantity
            )
            assert position.quantity == held
            stops = [
                o for o in gateway.open_orders("BTCUSDT")
                if o["side"] == "SELL" and o["type"] == "STOP_LOSS_LIMIT"
            ]  # fmt: skip
            rows = list(Order.objects.filter(position=position).values_list(
                "intent", "order_type", "status", "quantity", "stop_price", "status_reason",
                "review_reason"))  # fmt: skip
            assert stops, f"position {position.pk} {position.quantity} has no stop: {rows}"
            assert sum(Decimal(o["origQty"]) for o in stops) <= position.quantity
