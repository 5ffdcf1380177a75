"""Protective orders against the paper exchange: an entry fills, its protection goes on
the exchange (one OCO per tranche, every unit under a stop), moves with the stop, exits
at market when the stop is above the market, waits while the symbol is halted, and
follows the ladder as take-profit legs fill."""

from decimal import Decimal

import pytest

from apps.exchange.for_account import gateway_for_account
from apps.monitoring.models import Alert
from apps.risk.engine.config import ExitConfig, LadderStep
from apps.trading import execution
from apps.trading.models import Intent, Order, Position
from apps.trading.protection import cancel_protection, exit_position, sync_protection
from apps.trading.services import create_order
from apps.trading.states import OrderStatus
from tests.trading.support import make_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

D = Decimal
LADDER = ExitConfig()  # +2% 33%, +4% 33%, +8% the rest
STEP = D("0.00001")  # BTCUSDT lot step on the paper exchange


def _enter(account, quantity="0.03", *, stop_below="0.95"):
    config = make_config(account)
    order, _ = create_order(
        account=account,
        strategy_config=config,
        client_order_id=f"entry-{config.pk}",
        symbol="BTCUSDT",
        intent="entry",
        order_type="MARKET",
        side="BUY",
        quantity=D(quantity),
    )
    assert execution.submit(order).order.status == OrderStatus.FILLED
    position = Position.objects.get(strategy_config=config, status="open")
    stop = (position.average_entry_price * D(stop_below)).quantize(D("0.01"))
    Position.objects.filter(pk=position.pk).update(stop_price=stop)
    position.refresh_from_db()
    return position


def _exchange_open(gateway) -> dict[str, dict]:
    return {o["clientOrderId"]: o for o in gateway.open_orders("BTCUSDT")}


def _open_legs(position) -> list[Order]:
    return list(
        Order.objects.filter(
            position=position, intent__in=[Intent.STOP, Intent.TAKE_PROFIT], status="new"
        )
    )


def _floored(quantity: Decimal) -> Decimal:
    return (quantity / STEP).to_integral_value(rounding="ROUND_FLOOR") * STEP


def _assert_fully_stopped(position, gateway):
    """Every unit of the position is under exactly one live stop on the exchange."""
    position.refresh_from_db()
    on_exchange = _exchange_open(gateway)
    stops = [leg for leg in _open_legs(position) if leg.intent == Intent.STOP]
    assert stops
    for leg in stops:
        assert on_exchange[leg.client_order_id]["type"] == "STOP_LOSS_LIMIT"
        assert D(on_exchange[leg.client_order_id]["stopPrice"]) == leg.stop_price
    assert sum(leg.quantity for leg in stops) == _floored(position.quantity)
    return stops


def test_one_oco_per_tranche_covers_the_position_and_a_second_sync_sends_nothing(
    paper_account,
):
    position = _enter(paper_account())
    gateway = gateway_for_account(position.account)

    report = sync_protection(position=position, exit_config=LADDER, gateway=gateway)

    assert len(report.placed) == 6
    assert not report.refused
    assert not report.canceled
    legs = _open_legs(position)
    assert {(leg.intent, leg.order_type) for leg in legs} == {
        (Intent.STOP, "STOP_LOSS_LIMIT"),
        (Intent.TAKE_PROFIT, "LIMIT_MAKER"),
    }
    assert all(leg.exchange_order_id and leg.order_list_id for leg in legs)
    lists = {leg.order_list_id for leg in legs}
    assert len(lists) == 3  # one OCO per tranche
    stops = _assert_fully_stopped(position, gateway)
    assert {leg.stop_price for leg in stops} == {position.stop_price}
    takes = sorted(leg.price for leg in legs if leg.intent == Intent.TAKE_PROFIT)
    entry = position.average_entry_price
    assert [t >= entry * (1 + s.gain) for t, s in zip(takes, LADDER.ladder, strict=True)] == [
        True
    ] * 3
    assert len(_exchange_open(gateway)) == 6

    again = sync_protection(position=position, exit_config=LADDER, gateway=gateway)
    assert not again.changed
    assert sorted(again.kept) == sorted(leg.client_order_id for leg in legs)
    assert Order.objects.filter(position=position).count() == 6  # nothing new written


def test_a_raised_stop_cancel_replaces_the_ocos(paper_account):
    position = _enter(paper_account())
    gateway = gateway_for_account(position.account)
    first = sync_protection(position=position, exit_config=LADDER, gateway=gateway)
    raised = (position.average_entry_price * D("0.98")).quantize(D("0.01"))
    Position.objects.filter(pk=position.pk).update(stop_price=raised)

    report = sync_protection(position=position, exit_config=LADDER, gateway=gateway)

    assert sorted(report.canceled) == sorted(first.placed)
    assert len(report.placed) == 6
    assert not set(report.placed) & set(first.placed)
    assert all(
        o.status == OrderStatus.CANCELED
        for o in Order.objects.filter(client_order_id__in=first.placed)
    )
    on_exchange = _exchange_open(gateway)
    assert set(on_exchange) == set(report.placed)  # the old lists are gone there too
    stops = _assert_fully_stopped(position, gateway)
    assert {leg.stop_price for leg in stops} == {raised}
    position.refresh_from_db()
    assert position.protection_version == 1
    assert not sync_protection(position=position, exit_config=LADDER, gateway=gateway).changed


def test_a_stop_above_the_market_exits_at_market_at_once(paper_account):
    position = _enter(paper_account())
    gateway = gateway_for_account(position.account)
    sync_protection(position=position, exit_config=LADDER, gateway=gateway)
    Position.objects.filter(pk=position.pk).update(
        stop_price=(position.average_entry_price * D("1.01")).quantize(D("0.01"))
    )

    report = sync_protection(position=position, exit_config=LADDER, gateway=gateway)

    exit_order = report.exit_order
    assert exit_order is not None
    assert exit_order.intent == Intent.EXIT
    assert exit_order.status == OrderStatus.FILLED
    assert exit_order.order_type == "MARKET"
    assert exit_order.side == "SELL"
    position.refresh_from_db()
    assert position.status == Position.Status.CLOSED
    assert _exchange_open(gateway) == {}
    assert not _open_legs(position)


def test_a_halted_symbol_keeps_its_protection_and_gets_nothing_new(paper_account, exchange_admin):
    position = _enter(paper_account())
    gateway = gateway_for_account(position.account)
    placed = sync_protection(position=position, exit_config=LADDER, gateway=gateway).placed
    Position.objects.filter(pk=position.pk).update(
        stop_price=(position.average_entry_price * D("0.98")).quantize(D("0.01"))
    )

    def set_status(status):
        exchange_admin.session.post(
            f"{exchange_admin.url}/admin/symbols",
            json={"symbol": "BTCUSDT", "status": status},
            timeout=10,
        ).raise_for_status()
        gateway.exchange_info(refresh=True)

    set_status("BREAK")
    try:
        report = sync_protection(position=position, exit_config=LADDER, gateway=gateway)
        again = sync_protection(position=position, exit_config=LADDER, gateway=gateway)
        assert report.halted == "BREAK"
        assert again.halted == "BREAK"
        assert not report.changed
        assert not again.changed
        assert sorted(report.kept) == sorted(placed)
        assert set(_exchange_open(gateway)) == set(placed)
        alerts = Alert.objects.filter(event="protection_symbol_not_trading")
        assert alerts.count() == 1  # once, not on every cycle
        assert alerts.get().context["position_id"] == position.pk
    finally:
        set_status("TRADING")

    resumed = sync_protection(position=position, exit_config=LADDER, gateway=gateway)
    assert sorted(resumed.canceled) == sorted(placed)
    assert len(resumed.placed) == 6


def test_a_filled_take_profit_leg_advances_the_ladder(paper_account, exchange_admin):
    # A first tranche 0.1% above the entry; the market is scripted to rise past it, so
    # the test does not depend on where the session's replayed market happens to be.
    ladder = ExitConfig(
        ladder=(LadderStep(D("0.001"), D("0.5")), LadderStep(D("0.5"), D("1"))),
    )
    position = _enter(paper_account(), "0.02", stop_below="0.9")
    gateway = gateway_for_account(position.account)
    first = sync_protection(position=position, exit_config=ladder, gateway=gateway)
    assert len(first.placed) == 4

    above = str((position.average_entry_price * D("1.003")).quantize(D("0.01")))
    exchange_admin.session.post(
        f"{exchange_admin.url}/admin/market",
        json={"symbol": "BTCUSDT", "closes": [above] * 3, "volumes": ["10"] * 3},
        timeout=10,
    ).raise_for_status()
    report = None
    for _ in range(5):
        exchange_admin.session.post(
            f"{exchange_admin.url}/admin/clock/advance", json={"ms": 60_000}, timeout=30
        ).raise_for_status()
        report = sync_protection(position=position, exit_config=ladder, gateway=gateway)
        if report.ladder_done:
            break
    assert report.ladder_done == 1

    position.refresh_from_db()
    assert position.ladder_done == 1
    take = Order.objects.get(client_order_id=f"sd-pt-{position.pk}-0-0")
    assert take.status == OrderStatus.FILLED
    # What is left is one OCO for the last tranche, covering all of it.
    stops = _assert_fully_stopped(position, gateway)
    assert [leg.client_order_id for leg in stops] == [f"sd-ps-{position.pk}-1-0"]  # kept as is
    assert not sync_protection(position=position, exit_config=ladder, gateway=gateway).changed


def test_exit_position_sells_the_position_and_never_the_reserve(paper_account):
    account = paper_account({"USDT": "100000", "BTC": "0.5"})
    position = _enter(account, "0.02")
    gateway = gateway_for_account(account)
    sync_protection(position=position, exit_config=LADDER, gateway=gateway)
    position.refresh_from_db()
    held = position.quantity

    order = exit_position(position=position, reason="test: close now", gateway=gateway)

    assert order.status == OrderStatus.FILLED
    assert order.quantity == _floored(held)
    assert order.quantity <= held
    position.refresh_from_db()
    assert position.status == Position.Status.CLOSED
    assert _exchange_open(gateway) == {}
    balances = {b["asset"]: b for b in gateway.account()["balances"]}
    assert D(balances["BTC"]["free"]) >= D("0.5")  # the reserve is untouched
    assert D(balances["BTC"]["locked"]) == 0
    # Repeating the exit finds it done and sends nothing more.
    assert exit_position(position=position, reason="again", gateway=gateway).pk == order.pk


def test_canceling_the_ladder_leaves_one_stop_for_everything(paper_account):
    position = _enter(paper_account())
    gateway = gateway_for_account(position.account)
    placed = sync_protection(position=position, exit_config=LADDER, gateway=gateway).placed
    Position.objects.filter(pk=position.pk).update(ladder_canceled=True)

    report = sync_protection(position=position, exit_config=LADDER, gateway=gateway)

    assert sorted(report.canceled) == sorted(placed)
    [stop] = _assert_fully_stopped(position, gateway)
    assert stop.client_order_id.startswith(f"sd-ps-{position.pk}-x-")
    assert set(_exchange_open(gateway)) == {stop.client_order_id}
    assert cancel_protection(position=position, gateway=gateway) == [stop.client_order_id]
    assert _exchange_open(gateway) == {}


def _write_unsent_legs(position, stop_price):
    """What a worker killed between writing the legs and sending them leaves behind."""
    from apps.trading.protection import _create_legs, _ids_for
    from apps.trading.protection_plan import PlannedProtection, stop_prices

    gateway = gateway_for_account(position.account)
    trigger, limit = stop_prices(stop_price, gateway.symbol_rules("BTCUSDT"))
    planned = PlannedProtection(2, _floored(position.quantity), trigger, limit, None)
    return _create_legs(position, planned, _ids_for(position, planned, 0))


def test_legs_written_but_never_sent_are_sent_once_by_the_next_sync(paper_account):
    position = _enter(paper_account())
    Position.objects.filter(pk=position.pk).update(ladder_canceled=True)
    position.refresh_from_db()
    gateway = gateway_for_account(position.account)
    stop, _ = _write_unsent_legs(position, position.stop_price)
    assert stop.status == OrderStatus.PENDING

    report = sync_protection(position=position, exit_config=LADDER, gateway=gateway)

    stop.refresh_from_db()
    # The crashed run's row was for tranche 2, the plan wants one stop ("x"): the
    # pending row is settled as never sent, and the plan's stop goes out.
    assert stop.status == OrderStatus.REJECTED
    assert "superseded" in stop.status_reason
    [placed] = _assert_fully_stopped(position, gateway)
    assert report.placed == [placed.client_order_id]
    assert set(_exchange_open(gateway)) == {placed.client_order_id}


def test_a_pending_stop_matching_the_plan_is_sent_under_its_own_id(paper_account):
    position = _enter(paper_account())
    Position.objects.filter(pk=position.pk).update(ladder_canceled=True)
    position.refresh_from_db()
    gateway = gateway_for_account(position.account)
    from apps.trading.protection import _create_legs, _ids_for
    from apps.trading.protection_plan import plan_protection

    [planned] = plan_protection(
        position=position, exit_config=LADDER, rules=gateway.symbol_rules("BTCUSDT")
    ).orders
    stop, _ = _create_legs(position, planned, _ids_for(position, planned, 0))

    report = sync_protection(position=position, exit_config=LADDER, gateway=gateway)

    stop.refresh_from_db()
    assert stop.status == OrderStatus.NEW
    assert report.placed == [stop.client_order_id]
    assert not report.kept
    assert set(_exchange_open(gateway)) == {stop.client_order_id}
    assert Order.objects.filter(position=position).count() == 1
