"""Applying fills to orders, positions and round trips (real PostgreSQL)."""

from decimal import Decimal

import pytest

from apps.core.errors import ValidationError
from apps.trading.models import Fill, Order, Position, Trade
from apps.trading.services import FillInput, apply_fill, create_order
from tests.trading.support import (
    active_account,
    fill,
    make_config,
    order_for,
    sync_default_symbols,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def config():
    sync_default_symbols()
    return make_config(active_account(), symbols=["BTCUSDT", "ETHBTC"])


def test_a_fill_updates_order_and_opens_a_position(config):
    order = order_for(config, quantity="2")
    record, created = fill(order, price="100", quantity="1.5", commission="0.15")
    order.refresh_from_db()
    assert created
    assert order.status == "partially_filled"
    assert order.executed_quantity == D("1.5")
    assert order.cumulative_quote_quantity == D("150")
    position = record.position
    assert position.status == "open"
    assert position.quantity == D("1.5")
    assert position.cost_basis == D("150.15")
    assert position.average_entry_price == D("100.1")
    assert position.original_quantity == D("1.5")
    assert position.opened_at == record.executed_at
    fill(order, price="102", quantity="0.5")
    order.refresh_from_db()
    position.refresh_from_db()
    assert order.status == "filled"
    assert position.quantity == D("2")
    # The ladder's base is the whole entry order, net of base commission, not its
    # first piece (regression: it was 1.5).
    assert position.original_quantity == D("2")
    addition = order_for(config, quantity="1", intent="pyramid")
    fill(addition, price="110", quantity="1")
    position.refresh_from_db()
    assert position.original_quantity == D("2")


def test_the_same_trade_is_booked_once_whatever_reports_it(config):
    order = order_for(config, quantity="1")
    first, created = fill(order, price="100", quantity="1", trade_id=4242)
    again, created_again = fill(order, price="100", quantity="1", trade_id=4242)
    assert created
    assert not created_again
    assert again.pk == first.pk
    assert Fill.objects.filter(exchange_trade_id=4242).count() == 1
    position = Position.objects.get(pk=first.position_id)
    assert position.quantity == D("1")
    order.refresh_from_db()
    assert order.executed_quantity == D("1")


def test_round_trip_realized_pnl_equals_the_hand_computation(config):
    entry = order_for(config, quantity="2")
    fill(entry, price="100", quantity="2", commission="0.002", asset="BTC")  # 1.998 BTC held
    take_profit = order_for(config, side="SELL", intent="take_profit", quantity="1")
    fill(take_profit, price="110", quantity="1", commission="0.11")
    exit_order = order_for(config, side="SELL", intent="exit", quantity="0.998")
    record, _ = fill(exit_order, price="95", quantity="0.998", commission="0.5", asset="BNB",
                     rate="300")  # fmt: skip
    position = Position.objects.get(pk=record.position_id)
    assert position.status == "closed"
    assert position.quantity == 0
    # Proceeds 110 - 0.11 + 94.81 - 150 (BNB fee) = 54.70; spent 200.
    expected = D("110") - D("0.11") + D("94.81") - D("150") - D("200")
    assert position.realized_pnl == expected
    trade = Trade.objects.get(position=position)
    assert trade.realized_pnl == expected
    assert trade.fees == D("0.2") + D("0.11") + D("150")
    assert trade.exit_price == ((D("110") + D("94.81")) / D("1.998")).quantize(D("1e-18"))


def test_two_configs_on_one_symbol_keep_separate_positions(config):
    other = make_config(config.account, symbols=["BTCUSDT"])
    fill(order_for(config, quantity="1"), price="100", quantity="1")
    fill(order_for(other, quantity="3"), price="101", quantity="3")
    sell = order_for(other, side="SELL", intent="exit", quantity="3")
    fill(sell, price="111", quantity="3")
    mine = Position.objects.get(strategy_config=config)
    theirs = Position.objects.get(strategy_config=other)
    assert (mine.status, mine.quantity) == ("open", D("1"))
    assert (theirs.status, theirs.realized_pnl) == ("closed", D("30"))


def test_an_external_order_attributes_nothing(config):
    order, _ = create_order(
        account=config.account,
        client_order_id="web_manual_1",
        symbol="BTCUSDT",
        intent="entry",
        order_type="MARKET",
        side="BUY",
        quantity=D("1"),
        external=True,
    )
    record, _ = fill(order, price="100", quantity="1")
    assert record.position is None
    assert not Position.objects.exists()


def test_an_oversell_is_kept_as_a_fact_and_flagged(config):
    fill(order_for(config, quantity="1"), price="100", quantity="1")
    sell = order_for(config, side="SELL", intent="exit", quantity="2")
    record, _ = fill(sell, price="100", quantity="2")
    sell.refresh_from_db()
    assert record.position is None
    assert Fill.objects.get(pk=record.pk).position is None
    assert sell.needs_review
    assert "oversells" in sell.review_reason
    assert Position.objects.get(strategy_config=config).quantity == D("1")


def test_a_sell_without_a_position_is_flagged(config):
    sell = order_for(config, side="SELL", intent="exit", quantity="1")
    fill(sell, price="100", quantity="1")
    sell.refresh_from_db()
    assert sell.needs_review


def test_dust_below_minimum_notional_closes_and_merges_into_the_next(config):
    fill(order_for(config, quantity="1"), price="100", quantity="1")
    sell = order_for(config, side="SELL", intent="exit", quantity="0.99")
    fill(sell, price="100", quantity="0.99")  # 0.01 BTC = 1 USDT < 5 minimum
    first = Position.objects.get(strategy_config=config)
    assert first.status == "closed"
    assert first.dust_quantity == D("0.01")
    assert first.dust_cost == D("1")
    fill(order_for(config, quantity="1"), price="120", quantity="1")
    second = Position.objects.get(strategy_config=config, status="open")
    assert second.carried_quantity == D("0.01")
    assert second.quantity == D("1.01")
    assert second.cost_basis == D("121")


def test_a_partial_fill_leaving_a_small_remainder_is_not_dust_yet(config):
    fill(order_for(config, quantity="1"), price="100", quantity="1")
    sell = order_for(config, side="SELL", intent="exit", quantity="1")
    fill(sell, price="100", quantity="0.995")  # the rest of the order is still coming
    assert Position.objects.get(strategy_config=config).status == "open"
    fill(sell, price="100", quantity="0.005")
    assert Position.objects.get(strategy_config=config).status == "closed"


def test_a_fill_on_the_wrong_side_changes_nothing(config):
    order = order_for(config, quantity="1")
    with pytest.raises(ValidationError) as caught:
        apply_fill(
            order=order,
            fill=FillInput(exchange_trade_id=1, side="SELL", price="1", quantity="1", time_ms=1),
        )
    assert caught.value.field == "side"
    assert not Fill.objects.exists()
    assert Order.objects.get(pk=order.pk).executed_quantity == 0


def test_a_float_price_is_refused(config):
    order = order_for(config, quantity="1")
    with pytest.raises(ValidationError) as caught:
        apply_fill(
            order=order,
            fill=FillInput(exchange_trade_id=1, side="BUY", price=100.0, quantity="1", time_ms=1),
        )
    assert caught.value.field == "price"
    assert not Fill.objects.exists()


def test_selectors_give_the_engines_their_inputs(config):
    from datetime import UTC, datetime

    from apps.trading.selectors import account_trade_stats, exit_state, open_positions

    record, _ = fill(order_for(config, quantity="2"), price="100", quantity="2")
    Position.objects.filter(pk=record.position_id).update(stop_price=D("95"))
    position = Position.objects.get(pk=record.position_id)
    state = exit_state(position)
    assert (state.entry_price, state.quantity, state.original_quantity) == (D(100), D(2), D(2))
    assert state.stop_price == D("95")
    (open_position,) = open_positions(account_id=config.account_id, marks={"BTCUSDT": D("110")})
    assert open_position.value == D("220")
    assert open_position.open_risk == D("30")
    fill(order_for(config, side="SELL", intent="exit", quantity="2"), price="90", quantity="2")
    stats = account_trade_stats(account_id=config.account_id, now=datetime.now(tz=UTC))
    assert (stats.trades, stats.wins, stats.consecutive_losses) == (1, 0, 1)
    assert stats.average_loss == D("20")
