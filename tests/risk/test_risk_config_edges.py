"""Edges of the risk engine's settings and money helpers: every bound of every field,
open or closed, and the exact rounding direction of each helper. Written against the
mutants mutmut found alive (docs/testing.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.risk.engine.config import (
    DEFAULT_SECTOR_CAPS,
    ExitConfig,
    LadderStep,
    RiskConfig,
)
from apps.risk.engine.money import (
    div_floor,
    float_to_decimal,
    floor_significant,
    floor_to_step,
    mul_floor,
    to_decimal,
)
from apps.strategies.engine.errors import ParameterError, ParameterErrors

D = Decimal


def errors_of(factory, **values) -> dict[str, str]:
    with pytest.raises(ParameterErrors) as info:
        factory(**values)
    return info.value.as_dict()


# (field, lowest accepted, highest accepted, just below, just above, rule text)
EXIT_BOUNDS = [
    ("stop_atr_multiple", "0.0001", "50", "0", "50.0001", "must be in (0, 50]"),
    ("trailing_activation", "0", "10", "-0.0001", "10.0001", "must be in [0, 10]"),
    ("trailing_min_distance", "0", "0.5", "-0.0001", "0.5001", "must be in [0, 0.5]"),
    ("trailing_profit_share", "0", "1", "-0.0001", "1.0001", "must be in [0, 1]"),
    ("trailing_atr_multiple", "0.0001", "50", "0", "50.0001", "must be in (0, 50]"),
    ("breakeven_trigger", "0.0001", "10", "0", "10.0001", "must be in (0, 10]"),
    ("fee_rate", "0", "0.1", "-0.0001", "0.1001", "must be in [0, 0.1]"),
    ("time_exit_min_gain", "-1", "10", "-1.0001", "10.0001", "must be in [-1, 10]"),
    ("pyramid_fraction", "0", "2", "-0.0001", "2.0001", "must be in [0, 2]"),
    ("pyramid_trigger", "0.0001", "10", "0", "10.0001", "must be in (0, 10]"),
]

RISK_BOUNDS = [
    ("risk_per_trade", "0.0001", "0.1", "0", "0.1001", "must be in (0, 0.1]"),
    ("kelly_multiplier", "0.0001", "1", "0", "1.0001", "must be in (0, 1]"),
    ("kelly_cap", "0.0001", "0.25", "0", "0.2501", "must be in (0, 0.25]"),
    ("max_position_notional", "0.0001", "1e18", "0", "1.0001e18", "must be in (0, 1E+18]"),
    ("max_position_pct", "0.0001", "1", "0", "1.0001", "must be in (0, 1]"),
    ("correlation_cap", "-1", "1", "-1.0001", "1.0001", "must be in [-1, 1]"),
    ("max_portfolio_heat", "0.0001", "1", "0", "1.0001", "must be in (0, 1]"),
    ("min_reward_risk", "0", "100", "-0.0001", "100.0001", "must be in [0, 100]"),
    ("daily_loss_limit_abs", "0.0001", "1e18", "0", "1.0001e18", "must be in (0, 1E+18]"),
    ("daily_loss_limit_pct", "0.0001", "1", "0", "1.0001", "must be in (0, 1]"),
    ("max_drawdown", "0.0001", "1", "0", "1.0001", "must be in (0, 1]"),
    ("reserved_balance_threshold", "0.0001", "1", "0", "1.0001", "must be in (0, 1]"),
]


@pytest.mark.parametrize(("field", "low", "high", "below", "above", "rule"), EXIT_BOUNDS)
def test_every_exit_bound_is_exact(field, low, high, below, above, rule):
    assert getattr(ExitConfig(**{field: D(low)}), field) == D(low)
    assert getattr(ExitConfig(**{field: D(high)}), field) == D(high)
    assert errors_of(ExitConfig, **{field: D(below)}) == {field: rule}
    assert errors_of(ExitConfig, **{field: D(above)}) == {field: rule}


@pytest.mark.parametrize(("field", "low", "high", "below", "above", "rule"), RISK_BOUNDS)
def test_every_risk_bound_is_exact(field, low, high, below, above, rule):
    assert getattr(RiskConfig(**{field: D(low)}), field) == D(low)
    assert getattr(RiskConfig(**{field: D(high)}), field) == D(high)
    assert errors_of(RiskConfig, **{field: D(below)}) == {field: rule}
    assert errors_of(RiskConfig, **{field: D(above)}) == {field: rule}


@pytest.mark.parametrize("bad", [0.01, 1, "0.01", D("NaN"), D("Infinity"), None])
def test_a_fraction_must_be_a_finite_decimal(bad):
    assert errors_of(RiskConfig, risk_per_trade=bad) == {
        "risk_per_trade": "must be a Decimal number"
    }


# (field, minimum, optional)
COUNTS = [
    ("kelly_min_trades", 1, False),
    ("max_open_positions", 1, False),
    ("max_trades_per_day", 1, True),
    ("cooldown_after_losses", 1, True),
    ("cooldown_minutes", 0, False),
]


@pytest.mark.parametrize(("field", "minimum", "optional"), COUNTS)
def test_every_count_has_its_minimum_and_refuses_booleans(field, minimum, optional):
    rule = f"must be an integer of at least {minimum}"
    assert getattr(RiskConfig(**{field: minimum}), field) == minimum
    assert errors_of(RiskConfig, **{field: minimum - 1}) == {field: rule}
    assert errors_of(RiskConfig, **{field: True}) == {field: rule}
    assert errors_of(RiskConfig, **{field: 2.0}) == {field: rule}
    if optional:
        assert getattr(RiskConfig(**{field: None}), field) is None
    else:
        assert errors_of(RiskConfig, **{field: None}) == {field: rule}


def test_exit_counts_and_the_optional_time_exit():
    assert ExitConfig(time_exit_hours=None).time_exit_hours is None
    assert ExitConfig(time_exit_hours=1).time_exit_hours == 1
    assert errors_of(ExitConfig, time_exit_hours=0) == {
        "time_exit_hours": "must be an integer of at least 1"
    }
    assert ExitConfig(pyramid_max_additions=0).pyramid_max_additions == 0
    assert errors_of(ExitConfig, pyramid_max_additions=-1) == {
        "pyramid_max_additions": "must be an integer of at least 0"
    }


def test_choices_name_every_allowed_value():
    assert errors_of(RiskConfig, sizing_method="martingale") == {
        "sizing_method": "must be one of fixed_fractional, volatility, kelly"
    }
    assert errors_of(RiskConfig, correlation_action="ignore") == {
        "correlation_action": "must be one of reject, scale"
    }
    assert errors_of(ExitConfig, trailing_mode="chandelier") == {
        "trailing_mode": "must be one of profit_share, atr"
    }
    for method in ("fixed_fractional", "volatility", "kelly"):
        assert RiskConfig(sizing_method=method).sizing_method == method
    assert RiskConfig(drawdown_mode="reduce_only").drawdown_mode == "reduce_only"
    assert ExitConfig(trailing_mode="atr").trailing_mode == "atr"


def test_every_error_is_reported_at_once():
    errors = errors_of(RiskConfig, risk_per_trade=D(0), max_open_positions=0, exits="x")
    assert errors == {
        "risk_per_trade": "must be in (0, 0.1]",
        "max_open_positions": "must be an integer of at least 1",
        "exits": "must be an ExitConfig",
    }


def test_sector_caps_need_upper_case_tags_and_fractions_and_are_frozen():
    assert errors_of(RiskConfig, sector_caps={"defi": D("0.3")}) == {
        "sector_caps": "tag 'defi' must be upper case"
    }
    assert errors_of(RiskConfig, sector_caps={"": D("0.3")}) == {
        "sector_caps": "tag '' must be upper case"
    }
    assert errors_of(RiskConfig, sector_caps={"AI": D("1.5")}) == {
        "sector_caps[AI]": "must be in [0, 1]"
    }
    caps = {"AI": D("0.2")}
    config = RiskConfig(sector_caps=caps)
    caps["AI"] = D("0.9")  # the caller's dict changes afterwards...
    assert config.sector_caps["AI"] == D("0.2")  # ...the engine's copy does not
    with pytest.raises(TypeError):
        config.sector_caps["AI"] = D(1)
    assert dict(RiskConfig().sector_caps) == dict(DEFAULT_SECTOR_CAPS)


def test_ladder_steps_are_validated_in_order():
    assert errors_of(ExitConfig, ladder=("x",)) == {
        "ladder[0]": "must be a LadderStep(gain, fraction)"
    }
    assert errors_of(ExitConfig, ladder=(LadderStep(D(0), D("0.5")),)) == {
        "ladder[0].gain": "must be above the previous step"
    }
    bad_fraction = errors_of(ExitConfig, ladder=(LadderStep(D("0.01"), D(0)),))
    assert bad_fraction == {"ladder[0].fraction": "must be in (0, 1]"}
    assert errors_of(ExitConfig, ladder=(LadderStep(D(101), D(1)),)) == {
        "ladder[0].gain": "must be in (0, 100]"
    }
    # A non-step in the middle does not reset the "above the previous" comparison.
    errors = errors_of(
        ExitConfig, ladder=(LadderStep(D("0.05"), D("0.5")), "x", LadderStep(D("0.04"), D(1)))
    )
    assert errors == {
        "ladder[1]": "must be a LadderStep(gain, fraction)",
        "ladder[2].gain": "must be above the previous step",
    }
    # A gain that is not a Decimal is reported once and does not become the baseline.
    errors = errors_of(
        ExitConfig, ladder=(LadderStep(D("0.05"), D("0.5")), LadderStep(0.5, D("0.5")))
    )
    assert errors == {"ladder[1].gain": "must be a Decimal number"}
    errors = errors_of(
        ExitConfig,
        ladder=(
            LadderStep(D("0.05"), D("0.5")),
            LadderStep(0.5, D("0.5")),
            LadderStep(D("0.06"), D(1)),  # above 0.05: the float step is no baseline
        ),
    )
    assert errors == {"ladder[1].gain": "must be a Decimal number"}
    ok = ExitConfig(ladder=(LadderStep(D("0.01"), D("0.5")), LadderStep(D("0.02"), D(1))))
    assert len(ok.ladder) == 2


def test_break_even_price_covers_both_fees():
    config = ExitConfig(fee_rate=D("0.001"))
    price = config.breakeven_price(D(100))
    assert price == D(100) * D("1.001") / D("0.999")
    # Selling the bought quantity (less the buy fee) at this price returns the cost.
    assert (price * D("0.999")).quantize(D("0.0001")) == D("100.1000")
    assert ExitConfig(fee_rate=D(0)).breakeven_price(D(100)) == D(100)


def test_as_dict_lists_every_setting():
    values = RiskConfig(max_open_positions=7).as_dict()
    assert values["max_open_positions"] == 7
    assert values["exits"] == ExitConfig()
    assert set(values) >= {"sizing_method", "risk_per_trade", "sector_caps", "max_drawdown"}
    assert len(values) == 24  # 22 + the two liquidity limits


# --- money helpers ------------------------------------------------------------------


def test_to_decimal_accepts_exact_numbers_only():
    assert to_decimal(D("1.5"), "x") == D("1.5")
    assert to_decimal(3, "x") == D(3)
    assert to_decimal("2.25", "x") == D("2.25")
    for value, rule in [
        (True, "must be a Decimal, an integer or a numeric string"),
        (1.5, "must be a Decimal, an integer or a numeric string"),
        ([1], "must be a Decimal, an integer or a numeric string"),
        ("abc", "must be a number"),
        ("Infinity", "must be a finite number"),
        (D("NaN"), "must be a finite number"),
    ]:
        with pytest.raises(ParameterError) as info:
            to_decimal(value, "price")
        assert (info.value.field, info.value.rule) == ("price", rule)


def test_float_to_decimal_uses_the_shortest_repr():
    assert float_to_decimal(0.1) == D("0.1")
    assert float_to_decimal(-2.5) == D("-2.5")
    assert float_to_decimal(3) == D("3.0")
    assert float_to_decimal(None) is None
    assert float_to_decimal(float("inf")) is None
    assert float_to_decimal(float("-inf")) is None


def test_floor_to_step_rounds_down_and_ignores_missing_steps():
    assert floor_to_step(D("1.239"), D("0.01")) == D("1.23")
    assert floor_to_step(D("1.24"), D("0.01")) == D("1.24")
    assert floor_to_step(D("7"), D("2")) == D("6")
    assert floor_to_step(D("1.239"), None) == D("1.239")
    assert floor_to_step(D("1.239"), D(0)) == D("1.239")
    assert floor_to_step(D("1.239"), D(-1)) == D("1.239")


def test_division_and_multiplication_round_towards_zero_for_caps():
    third = div_floor(D(2), D(3))
    assert third == D("0.6666666666666666666666666666")  # not ...667
    assert div_floor(D(10), D(4)) == D("2.5")
    product = mul_floor(D("0.6666666666666666666666666667"), D(3))
    assert product == D("2.000000000000000000000000000")
    assert mul_floor(D("1.11111111111111111111111111119"), D(1)) == D(
        "1.111111111111111111111111111"
    )


def test_floor_significant_keeps_twelve_digits_rounded_down():
    assert floor_significant(D("33.33333333333333")) == D("33.3333333333")
    assert floor_significant(D("0.000123456789012345")) == D("0.000123456789012")
    assert floor_significant(D("123456789012999")) == D("123456789012000")
    assert floor_significant(D("1.99999999999999"), 3) == D("1.99")
    assert floor_significant(D(5)) == D(5)
    assert floor_significant(D(0)) == 0
    assert floor_significant(D(-3)) == 0
