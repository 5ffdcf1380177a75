"""Edges of exit management: each trigger exactly at its threshold, the order of the
steps in one cycle and the state carried to the next. Written against the mutants
mutmut found alive (docs/testing.md)."""

from __future__ import annotations

from decimal import Decimal

from apps.risk.engine.config import ExitConfig, LadderStep
from apps.risk.engine.exits import (
    ExitAction,
    ExitKind,
    ExitPlan,
    PositionState,
    evaluate_position,
    initial_stop,
    record_addition,
)

D = Decimal
HOUR_MS = 3_600_000
OPENED = 1_700_000_000_000
QUIET = ExitConfig(
    trailing_enabled=False,
    breakeven_enabled=False,
    time_exit_hours=None,
    pyramid_max_additions=0,
    ladder=(),
)


def state(**overrides) -> PositionState:
    values = dict(
        entry_price=D(100),
        quantity=D(9),
        original_quantity=D(9),
        opened_at_ms=OPENED,
        stop_price=D(95),
        highest_price=D(100),
    )
    values.update(overrides)
    return PositionState(**values)


def run(position=None, *, price, config=QUIET, hours=1, **extra) -> ExitPlan:
    return evaluate_position(
        position or state(), price=D(price), now_ms=OPENED + hours * HOUR_MS, config=config, **extra
    )


def kinds(plan: ExitPlan) -> list[ExitKind]:
    return [a.kind for a in plan.actions]


def test_initial_stop_sources():
    config = ExitConfig(stop_atr_multiple=D(3))
    assert initial_stop(D(100), D(2), D(90), config) == D(90)
    assert initial_stop(D(100), D(2), None, config) == D(94)
    assert initial_stop(D(100), None, None, config) is None
    assert initial_stop(D(100), D(0), None, config) is None
    assert initial_stop(D(100), D(-1), None, config) is None


def test_the_stop_fires_at_its_price_not_above():
    hit = run(price="95")
    assert hit.actions == (ExitAction(ExitKind.EXIT_ALL, D(9), "stop 95 hit at 95"),)
    assert hit.state.quantity == 0
    assert hit.closes
    assert run(price="95.01").actions == ()
    assert not run(price="95.01").closes
    assert run(state(stop_price=None), price="1").actions == ()


def test_time_exit_needs_both_the_age_and_a_small_gain():
    config = ExitConfig(
        trailing_enabled=False, breakeven_enabled=False, pyramid_max_additions=0, ladder=()
    )
    old = run(price="100.4", config=config, hours=48)
    assert old.actions == (
        ExitAction(ExitKind.EXIT_ALL, D(9), "open 48 h with gain 0.40% < 0.50%"),
    )
    assert old.state.quantity == 0
    assert run(price="100.5", config=config, hours=48).actions == ()  # gain at the minimum
    young = evaluate_position(
        state(), price=D("100.4"), now_ms=OPENED + 48 * HOUR_MS - 1, config=config
    )
    assert young.actions == ()
    assert "open 50 h" in run(price="99", config=config, hours=50).actions[0].reason


def test_ladder_steps_trigger_at_their_gain_and_sell_shares_of_the_original():
    ladder = (LadderStep(D("0.02"), D("0.5")), LadderStep(D("0.04"), D(1)))
    config = ExitConfig(
        trailing_enabled=False,
        breakeven_enabled=False,
        time_exit_hours=None,
        pyramid_max_additions=0,
        ladder=ladder,
    )
    assert run(price="101.99", config=config).actions == ()
    first = run(price="102", config=config)
    assert first.actions == (ExitAction(ExitKind.SELL, D("4.5"), "take profit 50% at +2.0%"),)
    assert (first.state.quantity, first.state.ladder_done) == (D("4.5"), 1)
    # Both steps in one cycle: the last step sells whatever is left.
    both = run(price="104", config=config)
    assert [a.quantity for a in both.actions] == [D("4.5"), D("4.5")]
    assert both.actions[1].reason == "take profit 100% at +4.0%"
    assert (both.state.quantity, both.state.ladder_done) == (0, 2)
    assert both.closes
    # A step never sells more than is held.
    small = run(state(quantity=D(2)), price="102", config=config)
    assert small.actions[0].quantity == D(2)
    assert small.state.quantity == 0
    # Steps already taken are not taken again.
    again = run(state(quantity=D("4.5"), ladder_done=1), price="103", config=config)
    assert again.actions == ()


def test_break_even_moves_the_stop_once_and_keeps_it():
    config = ExitConfig(
        trailing_enabled=False, time_exit_hours=None, pyramid_max_additions=0, ladder=()
    )
    level = config.breakeven_price(D(100))
    assert run(price="101.49", config=config).actions == ()
    moved = run(price="101.5", config=config)
    assert moved.actions == (
        ExitAction(ExitKind.MOVE_STOP, D(0), f"stop raised to {level}", level),
    )
    assert moved.state.breakeven_done
    assert moved.state.stop_price == level
    # Once done, it stays done even when the gain falls back.
    later = run(moved.state, price="100.5", config=config)
    assert later.actions == ()
    assert later.state.breakeven_done
    # A stop already above break-even is never lowered to it.
    high = run(state(stop_price=D(101)), price="102", config=config)
    assert high.actions == ()
    assert high.state.stop_price == D(101)
    no_stop = run(state(stop_price=None), price="102", config=config)
    assert no_stop.state.stop_price == level


def test_trailing_starts_at_its_activation_and_uses_the_wider_distance():
    config = ExitConfig(
        breakeven_enabled=False, time_exit_hours=None, pyramid_max_additions=0, ladder=()
    )
    assert run(price="100.99", config=config).actions == ()
    # Peak 101: max(0.5% x 101 = 0.505, 30% x 1 = 0.3) -> stop 100.495.
    at = run(price="101", config=config)
    assert at.state.stop_price == D("100.495")
    # Peak 110 from the candle's high: max(0.55, 3) -> 107.
    high = run(price="105", config=config, high=D(110))
    assert high.state.stop_price == D(107)
    assert high.state.highest_price == D(110)
    # The remembered peak counts even when the candle is lower.
    remembered = run(state(highest_price=D(120)), price="105", config=config)
    assert remembered.state.stop_price == D(114)
    # A trailing stop below the current stop is not a move.
    assert run(state(stop_price=D(101)), price="101.5", config=config).actions == ()


def test_atr_trailing_needs_an_atr():
    config = ExitConfig(
        breakeven_enabled=False,
        time_exit_hours=None,
        pyramid_max_additions=0,
        ladder=(),
        trailing_mode="atr",
        trailing_atr_multiple=D(3),
    )
    assert run(price="110", config=config, atr=D(2)).state.stop_price == D(104)
    assert run(price="110", config=config).state.stop_price == D(95)
    assert run(price="110", config=config, atr=D(0)).state.stop_price == D(95)


def test_pyramid_additions_step_up_with_each_addition():
    config = ExitConfig(
        trailing_enabled=False,
        breakeven_enabled=False,
        time_exit_hours=None,
        ladder=(),
        pyramid_max_additions=2,
        pyramid_fraction=D("0.5"),
        pyramid_trigger=D("0.02"),
    )
    assert run(price="101.99", config=config).actions == ()
    first = run(price="102", config=config)
    assert first.actions == (
        ExitAction(
            ExitKind.ADD, D("4.5"), "pyramid addition 1 of 2 at +2.00% (needs risk approval)"
        ),
    )
    # The second addition needs twice the trigger.
    assert run(state(additions=1), price="103.99", config=config).actions == ()
    second = run(state(additions=1), price="104", config=config)
    assert second.actions[0].reason.startswith("pyramid addition 2 of 2")
    assert run(state(additions=2), price="150", config=config).actions == ()


def test_no_addition_while_selling_but_the_stop_still_moves():
    ladder = (LadderStep(D("0.02"), D("0.1")), LadderStep(D("0.5"), D(1)))
    plan = run(price="103", config=ExitConfig(time_exit_hours=None, ladder=ladder))
    assert kinds(plan) == [ExitKind.SELL, ExitKind.MOVE_STOP]
    assert plan.state.quantity == D("8.1")
    assert plan.state.stop_price == D("102.1")  # trailing (103 - 0.9) beats break-even


def test_record_addition_averages_the_cost():
    after = record_addition(state(quantity=D(10)), D(5), D(106))
    assert after.quantity == D(15)
    assert after.entry_price == D(102)
    assert after.additions == 1
    assert after.original_quantity == D(9)


def test_the_peak_is_never_below_the_current_price():
    # A stale candle high below the close must not hold the trailing peak down.
    plan = run(price="105", high=D(100), config=ExitConfig(time_exit_hours=None, ladder=()))
    assert plan.state.highest_price == D(105)


def test_a_ladder_that_already_sold_everything_stops_selling():
    ladder = (LadderStep(D("0.02"), D(1)), LadderStep(D("0.04"), D(1)))
    plan = run(price="104", config=ExitConfig(time_exit_hours=None, ladder=ladder))
    assert plan.actions == (ExitAction(ExitKind.SELL, D(9), "take profit 100% at +2.0%"),)
    assert plan.state.quantity == 0
    assert plan.state.ladder_done == 1
    # A closed position gets no stop moves and no additions either.
    assert kinds(plan) == [ExitKind.SELL]


def test_the_last_ladder_step_sells_the_rest_whatever_its_fraction():
    ladder = (LadderStep(D("0.02"), D("0.1")), LadderStep(D("0.04"), D("0.5")))
    config = ExitConfig(
        trailing_enabled=False,
        breakeven_enabled=False,
        time_exit_hours=None,
        pyramid_max_additions=0,
        ladder=ladder,
    )
    plan = run(price="104", config=config)
    assert [a.quantity for a in plan.actions] == [D("0.9"), D("8.1")]
    assert plan.state.quantity == 0


def test_fractional_positions_take_profit_and_move_stops():
    small = state(quantity=D("0.9"), original_quantity=D("0.9"))
    ladder = (LadderStep(D("0.02"), D("0.5")), LadderStep(D("0.5"), D(1)))
    plan = run(small, price="102", config=ExitConfig(time_exit_hours=None, ladder=ladder))
    assert plan.actions[0] == ExitAction(ExitKind.SELL, D("0.45"), "take profit 50% at +2.0%")
    assert plan.state.quantity == D("0.45")
    assert kinds(plan) == [ExitKind.SELL, ExitKind.MOVE_STOP]


def test_atr_trailing_with_an_atr_below_one():
    config = ExitConfig(
        breakeven_enabled=False,
        time_exit_hours=None,
        pyramid_max_additions=0,
        ladder=(),
        trailing_mode="atr",
        trailing_atr_multiple=D(2),
    )
    assert run(price="110", config=config, atr=D("0.5")).state.stop_price == D(109)
