"""The pure protection plan: every unit of a position covered by exactly one stop leg,
tranches as the exit ladder says, everything on the symbol's lot step and tick."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from apps.exchange.filters import SymbolRules
from apps.risk.engine.config import ExitConfig, LadderStep
from apps.trading.protection_plan import (
    BELOW_MINIMUM,
    NO_STOP,
    STOP_ONLY_TRANCHE,
    PositionView,
    plan_protection,
    stop_prices,
)
from tests.trading.support import symbol_entry

D = Decimal
BTC = SymbolRules.from_exchange_info(symbol_entry("BTCUSDT", "BTC", "USDT"))
NO_OCO = SymbolRules.from_exchange_info(
    {**symbol_entry("BTCUSDT", "BTC", "USDT"), "ocoAllowed": False}
)
COARSE = SymbolRules.from_exchange_info(
    symbol_entry("XYZUSDT", "XYZ", "USDT", step="1", tick="0.0001", min_notional="10")
)
LADDER = ExitConfig()  # +2% 33%, +4% 33%, +8% the rest


def view(quantity, *, entry="100000", stop="95000", original=None, done=0, canceled=False):
    return PositionView(
        quantity=D(quantity),
        original_quantity=D(original if original is not None else quantity),
        average_entry_price=D(entry),
        stop_price=D(stop) if stop is not None else None,
        ladder_done=done,
        ladder_canceled=canceled,
    )


def test_one_oco_per_tranche_at_the_ladder_prices():
    plan = plan_protection(position=view("0.03"), exit_config=LADDER, rules=BTC)
    assert plan.uses_oco
    assert not plan.problem
    assert [(o.tranche, o.quantity, o.take_profit_price) for o in plan.orders] == [
        (0, D("0.0099"), D("102000")),
        (1, D("0.0099"), D("104000")),
        (2, D("0.0102"), D("108000")),
    ]
    assert all(o.stop_price == D("95000") for o in plan.orders)
    assert all(o.stop_limit_price == D("94050") for o in plan.orders)
    assert plan.covered == D("0.03")


def test_done_tranches_and_partial_take_profits_are_taken_off():
    position = view("0.0171", original="0.03", done=1)
    plan = plan_protection(
        position=position, exit_config=LADDER, rules=BTC, sold_by_tranche={1: D("0.003")}
    )
    assert [(o.tranche, o.quantity) for o in plan.orders] == [(1, D("0.0069")), (2, D("0.0102"))]


def test_a_tranche_below_min_notional_joins_the_next_one():
    # 0.0001 BTC at ~95k is 9.5 USDT; with min notional 10 each tranche of 1/3 is too small.
    rules = SymbolRules.from_exchange_info(
        symbol_entry("BTCUSDT", "BTC", "USDT", step="0.0001", min_notional="10")
    )
    plan = plan_protection(position=view("0.0003"), exit_config=LADDER, rules=rules)
    assert [(o.tranche, o.quantity) for o in plan.orders] == [(2, D("0.0003"))]


def test_a_last_tranche_too_small_joins_the_one_before():
    ladder = ExitConfig(ladder=(LadderStep(D("0.02"), D("0.9")), LadderStep(D("0.05"), D("1"))))
    plan = plan_protection(position=view("0.0005"), exit_config=ladder, rules=BTC)
    assert [(o.tranche, o.quantity) for o in plan.orders] == [(0, D("0.0005"))]


def test_stop_only_without_oco_or_with_the_ladder_canceled():
    for rules, position in ((NO_OCO, view("0.03")), (BTC, view("0.03", canceled=True))):
        plan = plan_protection(position=position, exit_config=LADDER, rules=rules)
        assert not plan.uses_oco
        [order] = plan.orders
        assert order.tranche == STOP_ONLY_TRANCHE
        assert not order.is_oco
        assert order.quantity == D("0.03")


def test_nothing_is_planned_without_a_stop_or_below_the_minimum():
    assert plan_protection(
        position=view("1", stop=None), exit_config=LADDER, rules=BTC
    ).problem == (NO_STOP)
    tiny = plan_protection(position=view("0.00001"), exit_config=LADDER, rules=BTC)
    assert tiny.problem == BELOW_MINIMUM
    assert not tiny.orders


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


@st.composite
def positions(draw):
    entry = draw(st.decimals(min_value=D("0.5"), max_value=D("200"), places=4))
    stop = entry * draw(st.decimals(min_value=D("0.5"), max_value=D("0.99"), places=3))
    original = D(draw(st.integers(min_value=1, max_value=100_000)))
    held = original * draw(st.decimals(min_value=D("0.05"), max_value=D("1.5"), places=3))
    ladder_len = draw(st.integers(1, 4))
    gains = sorted(
        draw(
            st.lists(
                st.decimals(min_value=D("0.001"), max_value=D("1"), places=3),
                min_size=ladder_len,
                max_size=ladder_len,
                unique=True,
            )
        )
    )
    fractions = draw(
        st.lists(
            st.decimals(min_value=D("0.01"), max_value=D("1"), places=2),
            min_size=ladder_len,
            max_size=ladder_len,
        )
    )
    config = ExitConfig(
        ladder=tuple(LadderStep(g, f) for g, f in zip(gains, fractions, strict=True))
    )
    done = draw(st.integers(0, ladder_len - 1))
    sold = {done: D(draw(st.integers(0, 50)))} if draw(st.booleans()) else {}
    return view(str(held), entry=str(entry), stop=str(stop), original=str(original),
                done=done), config, sold  # fmt: skip


@given(positions(), st.booleans())
def test_every_unit_is_covered_once_and_everything_is_quantized(case, oco):
    position, config, sold = case
    rules = COARSE if oco else SymbolRules.from_exchange_info(
        {**symbol_entry("XYZUSDT", "XYZ", "USDT", step="1", tick="0.0001", min_notional="10"),
         "ocoAllowed": False}
    )  # fmt: skip
    plan = plan_protection(position=position, exit_config=config, rules=rules, sold_by_tranche=sold)
    floored = D(int(position.quantity))
    if plan.problem:
        assert not plan.orders
        return
    assert plan.covered == floored  # sum of stop legs == the position, on the lot step
    assert plan.uncovered == position.quantity - floored
    trigger, limit = stop_prices(position.stop_price, rules)
    tranches = [o.tranche for o in plan.orders]
    assert tranches == sorted(set(tranches))
    for order in plan.orders:
        assert order.stop_price == trigger
        assert order.stop_limit_price == limit
        assert limit <= trigger
        assert _on_grid(trigger, D("0.0001"))
        assert _on_grid(order.quantity, D(1))
        assert order.quantity >= 1
        assert order.quantity * order.stop_limit_price >= D(10)  # min notional
        if order.is_oco:
            assert _on_grid(order.take_profit_price, D("0.0001"))
            gain = config.ladder[order.tranche].gain
            assert order.take_profit_price >= position.average_entry_price * (1 + gain)
            assert order.take_profit_price > trigger
            assert order.tranche >= position.ladder_done
    assert plan.uses_oco == oco
    if not oco:
        assert len(plan.orders) == 1
