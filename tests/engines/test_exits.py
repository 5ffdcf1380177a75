"""Unit tests for every exit-management rule, with the seed document's defaults."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from apps.risk.engine import ExitConfig, PositionState, evaluate_position, initial_stop
from apps.risk.engine.exits import ExitKind, record_addition

D = Decimal
HOUR = 3_600_000
CFG = ExitConfig()


def state(**overrides) -> PositionState:
    values = {
        "entry_price": D(100),
        "quantity": D(9),
        "original_quantity": D(9),
        "opened_at_ms": 0,
        "stop_price": D(96),
        "highest_price": D(100),
    }
    values.update(overrides)
    return PositionState(**values)


def kinds(plan):
    return [a.kind for a in plan.actions]


def test_initial_stop_prefers_the_strategy_then_atr_multiple():
    assert initial_stop(D(100), D(3), D(97), CFG) == D(97)
    assert initial_stop(D(100), D(3), None, CFG) == D(94)  # 2 x ATR
    assert initial_stop(D(100), None, None, CFG) is None


def test_stop_hit_exits_everything():
    plan = evaluate_position(state(), price=D(96), now_ms=HOUR, config=CFG)
    assert kinds(plan) == [ExitKind.EXIT_ALL]
    assert plan.actions[0].quantity == D(9)
    assert plan.closes


def test_time_exit_after_48_hours_below_half_a_percent():
    plan = evaluate_position(state(), price=D("100.4"), now_ms=48 * HOUR, config=CFG)
    assert kinds(plan) == [ExitKind.EXIT_ALL]
    assert "48 h" in plan.actions[0].reason
    plan = evaluate_position(state(), price=D("100.4"), now_ms=47 * HOUR, config=CFG)
    assert ExitKind.EXIT_ALL not in kinds(plan)
    plan = evaluate_position(state(), price=D("100.6"), now_ms=49 * HOUR, config=CFG)
    assert ExitKind.EXIT_ALL not in kinds(plan)


def test_ladder_sells_a_third_at_2_and_4_percent_and_the_rest_at_8():
    s = state()
    plan = evaluate_position(s, price=D(102), now_ms=HOUR, config=CFG)
    sells = [a.quantity for a in plan.actions if a.kind is ExitKind.SELL]
    assert sells == [D("2.97")]  # 33% of 9
    plan = evaluate_position(plan.state, price=D(104), now_ms=2 * HOUR, config=CFG)
    assert [a.quantity for a in plan.actions if a.kind is ExitKind.SELL] == [D("2.97")]
    plan = evaluate_position(plan.state, price=D(108), now_ms=3 * HOUR, config=CFG)
    assert [a.quantity for a in plan.actions if a.kind is ExitKind.SELL] == [D("3.06")]
    assert plan.state.quantity == 0
    assert plan.closes
    # A jump straight to +8% takes all three steps in one cycle and never oversells.
    plan = evaluate_position(s, price=D(109), now_ms=HOUR, config=CFG)
    assert sum(a.quantity for a in plan.actions) == D(9)


def test_break_even_moves_the_stop_to_cover_both_fees_at_one_and_a_half_percent():
    plan = evaluate_position(state(), price=D("101.4"), now_ms=HOUR,
                             config=replace(CFG, trailing_enabled=False))  # fmt: skip
    assert plan.state.stop_price == D(96)
    plan = evaluate_position(state(), price=D("101.5"), now_ms=HOUR,
                             config=replace(CFG, trailing_enabled=False))  # fmt: skip
    expected = D(100) * D("1.001") / D("0.999")
    assert plan.state.stop_price == expected
    assert plan.state.breakeven_done
    assert ExitKind.MOVE_STOP in kinds(plan)


def test_trailing_distance_is_max_of_half_percent_and_30_percent_of_profit():
    cfg = replace(CFG, breakeven_enabled=False, ladder=())
    # +1.2%: 30% of profit = 0.36 < 0.5% of 101.2 = 0.506 -> stop 100.694.
    plan = evaluate_position(state(), price=D("101.2"), now_ms=HOUR, config=cfg)
    assert plan.state.stop_price == D("101.2") - D("101.2") * D("0.005")
    # +10%: 30% of 10 = 3 > 0.55 -> stop 107.
    plan = evaluate_position(state(), price=D(110), now_ms=HOUR, config=cfg)
    assert plan.state.stop_price == D(107)
    # Price falls back: the stop stays where it was.
    later = evaluate_position(plan.state, price=D("107.5"), now_ms=2 * HOUR, config=cfg)
    assert later.state.stop_price == D(107)
    # Below the activation threshold nothing trails.
    plan = evaluate_position(state(), price=D("100.9"), now_ms=HOUR, config=cfg)
    assert plan.state.stop_price == D(96)


def test_atr_trailing_mode():
    cfg = replace(CFG, breakeven_enabled=False, ladder=(), trailing_mode="atr")
    plan = evaluate_position(state(), price=D(110), now_ms=HOUR, config=cfg, atr=D(2))
    assert plan.state.stop_price == D(106)
    plan = evaluate_position(state(), price=D(110), now_ms=HOUR, config=cfg, atr=None)
    assert plan.state.stop_price == D(96)


def test_pyramiding_adds_half_the_original_at_most_twice():
    cfg = replace(CFG, ladder=())
    plan = evaluate_position(state(), price=D(102), now_ms=HOUR, config=cfg)
    adds = [a for a in plan.actions if a.kind is ExitKind.ADD]
    assert [a.quantity for a in adds] == [D("4.5")]
    s = record_addition(plan.state, D("4.5"), D(102))
    assert s.additions == 1
    assert s.entry_price == (D(900) + D(459)) / D("13.5")
    # The second addition needs +4% on the average cost.
    plan = evaluate_position(s, price=D(103), now_ms=2 * HOUR, config=cfg)
    assert ExitKind.ADD not in kinds(plan)
    plan = evaluate_position(s, price=D(106), now_ms=2 * HOUR, config=cfg)
    assert ExitKind.ADD in kinds(plan)
    s = record_addition(plan.state, D("4.5"), D(106))
    plan = evaluate_position(s, price=D(130), now_ms=3 * HOUR, config=cfg)
    assert ExitKind.ADD not in kinds(plan)  # two additions is the limit


def test_no_addition_in_a_cycle_that_takes_profit():
    plan = evaluate_position(state(), price=D(102), now_ms=HOUR, config=CFG)
    assert ExitKind.SELL in kinds(plan)
    assert ExitKind.ADD not in kinds(plan)
