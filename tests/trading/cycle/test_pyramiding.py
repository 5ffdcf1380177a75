"""Pyramid additions are placed live: once an open position gains the profile's
trigger, the risk engine sizes the addition, it is bought once per trigger, joins the
position, and the position's protection grows with it."""

from decimal import Decimal

import pytest

from apps.exchange.for_account import gateway_for_account
from apps.risk.services import create_risk_profile
from apps.strategies.models import StrategyConfig
from apps.trading.cycle.group import run_group
from apps.trading.models import Decision, Order, Position
from apps.trading.states import OrderStatus

from .support import (
    MINUTE_MS,
    breakout_klines,
    enabled_config,
    kline,
    last_closed_open_ms,
    market_price,
    store_klines,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
D = Decimal


def _cycle(config, open_ms):
    return run_group(
        environment="paper", symbol="BTCUSDT", interval="1m", open_time_ms=open_ms,
        config_ids=[config.pk],
    )  # fmt: skip


def _quiet_candle_at(open_ms: int, close: Decimal) -> list:
    return kline(open_ms, close, close * D("1.0005"), close * D("0.9995"), close, "10")


def test_a_gain_past_the_trigger_buys_one_addition_that_protection_covers(paper_account, settings):
    settings.TRADING_MAX_TRIGGER_AGE_SECONDS = 600  # three candles, the first 3 min old
    config = enabled_config(paper_account({"USDT": "10000"}))
    profile = create_risk_profile(
        name=f"pyramid {config.pk}",
        preset="balanced",
        overrides={"pyramid_max_additions": 1, "pyramid_trigger": D("0.01"),
                   "pyramid_fraction": D("0.5"), "max_position_pct": D("0.6"),
                   # The stored candles rise, the exchange's market does not: a stop
                   # trailed to the candles would sit above the market and sell.
                   "trailing_enabled": False, "breakeven_enabled": False,
                   "take_profit_ladder": [{"gain": "0.5", "fraction": "1"}]},
    )  # fmt: skip
    StrategyConfig.objects.filter(pk=config.pk).update(risk_profile=profile)
    gateway = gateway_for_account(config.account)
    open_ms = last_closed_open_ms() - 2 * MINUTE_MS
    price = market_price(gateway)
    store_klines("paper", "BTCUSDT", "1m", breakout_klines(price, open_ms))
    _cycle(config, open_ms)
    position = Position.objects.get(strategy_config=config, status="open")
    first = position.quantity

    # The next candle closes 2% above the entry: past the 1% trigger.
    up = open_ms + MINUTE_MS
    store_klines("paper", "BTCUSDT", "1m",
                 [_quiet_candle_at(up, position.average_entry_price * D("1.02"))])  # fmt: skip
    _cycle(config, up)

    addition = Order.objects.get(strategy_config=config, intent="pyramid")
    assert addition.status == OrderStatus.FILLED
    decision = Decision.objects.filter(strategy_config=config).latest("created_at")
    assert "pyramid addition 1 of 1" in decision.inputs["pyramid"]
    assert addition.client_order_id in decision.orders_placed
    # Sized by the risk engine from half the first fill (never more).
    assert D(0) < addition.quantity <= first * D("0.5")
    position.refresh_from_db()
    assert position.additions == 1
    assert position.quantity > first
    # Protection was resized: every unit of the larger position is under a stop.
    stops = Order.objects.filter(position=position, intent="stop", status=OrderStatus.NEW)
    covered = sum(o.quantity for o in stops)
    assert covered <= position.quantity
    assert position.quantity - covered < D("0.00001")

    # Redelivered, or the next candle still up: the one allowed addition is not repeated.
    _cycle(config, up)
    nxt = up + MINUTE_MS
    store_klines("paper", "BTCUSDT", "1m",
                 [_quiet_candle_at(nxt, position.average_entry_price * D("1.03"))])  # fmt: skip
    _cycle(config, nxt)
    assert Order.objects.filter(strategy_config=config, intent="pyramid").count() == 1
