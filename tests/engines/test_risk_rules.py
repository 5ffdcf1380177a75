"""One or more unit tests for every risk rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.risk.engine import Balance, LadderStep, Outcome, evaluate_entry
from apps.risk.engine.config import ExitConfig
from apps.risk.engine.money import float_to_decimal, floor_to_step, to_decimal
from apps.risk.engine.sizing import kelly_fraction
from apps.strategies.engine import ParameterError, ParameterErrors

from .risk_builders import D, account, config, position, proposal, stats


def verdict(decision, rule):
    return next(v for v in decision.verdicts if v.rule == rule)


def test_fixed_fractional_risks_one_percent_over_the_stop_distance():
    d = evaluate_entry(config(max_position_pct=D(1)), account(), proposal())
    # 1% of 10,000 = 100 at risk; stop distance 2 -> 50 units.
    assert d.outcome is Outcome.APPROVED
    assert d.quantity == D(50)
    assert d.risk_amount == D(100)
    assert d.notional == D(5000)


def test_rounding_a_quantity_is_not_a_resize():
    d = evaluate_entry(config(max_position_pct=D(1)), account(),
                       proposal(stop=D(97), target=D(110)))  # fmt: skip
    assert d.outcome is Outcome.APPROVED
    assert d.quantity == D("33.3333333333")  # 100 / 3, floored to 12 significant digits
    d = evaluate_entry(config(max_position_pct=D(1)), account(),
                       proposal(stop=D(97), target=D(110), quantity_step=D(1)))  # fmt: skip
    assert d.outcome is Outcome.APPROVED
    assert d.quantity == D(33)


def test_volatility_sizing_uses_atr_multiple_not_the_strategy_stop():
    cfg = config(sizing_method="volatility", max_position_pct=D(1))
    d = evaluate_entry(cfg, account(), proposal(atr=D("0.5")))
    assert d.quantity == D(100)  # 100 / (2 x 0.5)
    d = evaluate_entry(cfg, account(), proposal(atr=None))
    assert d.outcome is Outcome.REJECTED
    assert "ATR" in verdict(d, "sizing").reason


def test_kelly_waits_for_enough_trades_then_uses_capped_quarter_kelly():
    cfg = config(sizing_method="kelly", max_position_pct=D(1), max_portfolio_heat=D(1))
    few = stats(trades=10, wins=6, average_win=D(2), average_loss=D(1))
    d = evaluate_entry(cfg, account(stats=few), proposal())
    assert d.quantity == D(50)  # falls back to 1%
    assert "needs 30 trades" in verdict(d, "sizing").reason
    # W = 0.5, R = 2 -> Kelly 0.25 -> quarter 0.0625 -> capped at 0.05.
    many = stats(trades=40, wins=20, average_win=D(2), average_loss=D(1))
    d = evaluate_entry(cfg, account(stats=many), proposal(stop=D(90), target=D(130)))
    assert d.risk_amount == D(500)
    assert d.quantity == D(50)
    # W = 0.4, R = 1 -> negative edge -> zero -> rejected.
    losing = stats(trades=40, wins=16, average_win=D(1), average_loss=D(1))
    assert evaluate_entry(cfg, account(stats=losing), proposal()).outcome is Outcome.REJECTED


def test_kelly_fraction_formula():
    s = stats(trades=100, wins=60, average_win=D("1.5"), average_loss=D(1))
    # 0.6 - 0.4 / 1.5 = 0.3333...; x 0.25 = 0.08333...
    assert kelly_fraction(s, D("0.25"), D(1)).quantize(D("0.0001")) == D("0.0833")
    assert kelly_fraction(s, D("0.25"), D("0.05")) == D("0.05")


def test_notional_and_equity_share_caps_resize():
    d = evaluate_entry(config(max_position_pct=D("0.25")), account(), proposal())
    assert d.outcome is Outcome.RESIZED
    assert d.notional == D(2500)
    d = evaluate_entry(config(max_position_notional=D(1000)), account(), proposal())
    assert d.notional == D(1000)
    held = account(positions=(position("ETHUSDT", qty="20", mark="100", stop="99"),))
    d = evaluate_entry(config(max_position_pct=D("0.25")), held, proposal())
    assert d.notional == D(500)  # 2,500 cap minus 2,000 already held


def test_free_quote_balance_caps_spot_buys():
    acc = account(balances=(Balance("USDT", free=D(300), locked=D(0)),))
    d = evaluate_entry(config(), acc, proposal(quote_asset="USDT"))
    assert d.quantity == D(3)


def test_max_open_positions():
    acc = account(positions=tuple(position(f"S{i}USDT", stop="99.9") for i in range(5)))
    d = evaluate_entry(config(), acc, proposal())
    assert d.outcome is Outcome.REJECTED
    assert "5 positions open, limit 5" in d.reasons[0]
    # Adding to a symbol already held does not open a new position.
    acc = account(positions=(*acc.positions[:4], position("ETHUSDT", stop="99.9")))
    assert verdict(evaluate_entry(config(), acc, proposal()), "max_open_positions").passed


def test_sector_exposure_caps_each_tag():
    acc = account(positions=(position("UNIUSDT", qty="25", stop="99", sectors={"DEFI"}),))
    d = evaluate_entry(config(), acc, proposal(sectors=frozenset({"DEFI"})))
    # DEFI cap 30% = 3,000; 2,500 held -> 500 of room -> 5 units.
    assert d.quantity == D(5)
    assert d.outcome is Outcome.RESIZED
    acc = account(positions=(position("UNIUSDT", qty="30", stop="99", sectors={"DEFI"}),))
    d = evaluate_entry(config(), acc, proposal(sectors=frozenset({"DEFI"})))
    assert d.outcome is Outcome.REJECTED
    assert "DEFI exposure cap" in verdict(d, "sector_exposure").reason
    untagged = evaluate_entry(config(), acc, proposal(sectors=frozenset({"AI"})))
    assert untagged.approved


def test_correlation_cap_rejects_or_scales():
    acc = account(positions=(position("BTCUSDT", stop="99.5"),))
    corr = {"BTCUSDT": 0.9}
    d = evaluate_entry(config(), acc, proposal(correlations=corr))
    assert d.outcome is Outcome.REJECTED
    assert "correlate 0.90 with BTCUSDT" in verdict(d, "correlation").reason
    d = evaluate_entry(
        config(correlation_action="scale", max_position_pct=D(1)),
        acc,
        proposal(correlations=corr),
    )
    assert d.outcome is Outcome.RESIZED
    assert d.quantity == D(25)  # (1 - 0.9) / (1 - 0.8) = half of 50
    fine = evaluate_entry(config(), acc, proposal(correlations={"BTCUSDT": 0.5}))
    assert fine.approved
    unknown = evaluate_entry(config(), acc, proposal(correlations={"BTCUSDT": float("nan")}))
    assert unknown.approved


def test_portfolio_heat_cap():
    # 5 positions-worth of risk: 1 unit x (100 - 50) = 50 each -> 250 = 2.5% heat.
    acc = account(positions=(position("BTCUSDT", qty="10", stop="50"),))  # 500 = 5% heat
    d = evaluate_entry(config(max_position_pct=D(1)), acc, proposal())
    # Cap 6% = 600; 500 used -> 100 of room -> 50 units at 2 each: fits exactly.
    assert d.quantity == D(50)
    acc = account(positions=(position("BTCUSDT", qty="11", stop="50"),))  # 550 used
    d = evaluate_entry(config(max_position_pct=D(1)), acc, proposal())
    assert d.quantity == D(25)
    assert d.outcome is Outcome.RESIZED
    acc = account(positions=(position("BTCUSDT", qty="12", stop="50"),))  # 600 used
    assert evaluate_entry(config(), acc, proposal()).outcome is Outcome.REJECTED


def test_minimum_reward_risk():
    d = evaluate_entry(config(), account(), proposal(target=D(103)))
    assert d.outcome is Outcome.REJECTED
    assert "reward:risk 1.50 < 2" in d.reasons[0]
    assert evaluate_entry(config(), account(), proposal(target=None)).outcome is Outcome.REJECTED
    # Accumulation has no target by design.
    assert evaluate_entry(config(), account(), proposal(target=None, accumulate=True)).approved


def test_daily_loss_limit_absolute_and_percent():
    acc = account(equity=D(9_790))  # lost 2.1% today
    assert "today's loss 2.10%" in evaluate_entry(config(), acc, proposal()).reasons[0]
    cfg = config(daily_loss_limit_pct=None, daily_loss_limit_abs=D(100))
    acc = account(equity=D(9_900))
    d = evaluate_entry(cfg, acc, proposal())
    assert d.outcome is Outcome.REJECTED
    assert evaluate_entry(cfg, account(equity=D(9_901)), proposal()).approved


def test_max_trades_per_day():
    d = evaluate_entry(config(), account(stats=stats(trades_today=3)), proposal())
    assert d.reasons == ["trades_per_day: 3 trades today, limit 3"]
    assert evaluate_entry(config(), account(stats=stats(trades_today=2)), proposal()).approved


def test_cooldown_after_consecutive_losses():
    now = 1_700_000_000_000
    s = stats(consecutive_losses=3, last_loss_at_ms=now - 60 * 60_000)
    d = evaluate_entry(config(), account(stats=s, now_ms=now), proposal())
    assert "cooling down 180 more min" in d.reasons[0]
    s = stats(consecutive_losses=3, last_loss_at_ms=now - 240 * 60_000)
    assert evaluate_entry(config(), account(stats=s, now_ms=now), proposal()).approved
    s = stats(consecutive_losses=2, last_loss_at_ms=now)
    assert evaluate_entry(config(), account(stats=s, now_ms=now), proposal()).approved


@pytest.mark.parametrize(("mode", "halt"), [("halt", True), ("reduce_only", False)])
def test_drawdown_breaker_on_equity_including_unrealized(mode, halt):
    acc = account(equity=D(8_500), peak_equity=D(10_000), day_start_equity=D(8_500))
    d = evaluate_entry(config(drawdown_mode=mode), acc, proposal())
    assert d.outcome is Outcome.REJECTED
    assert d.halt is halt
    assert any("drawdown 15.00%" in a for a in d.alerts)
    ok = account(equity=D(8_501), peak_equity=D(10_000), day_start_equity=D(8_501))
    assert evaluate_entry(config(drawdown_mode=mode), ok, proposal()).approved


def test_reserved_balance_usage_alerts_and_blocks():
    balances = (
        Balance("USDT", free=D(2_000), locked=D(7_000)),
        Balance("ETH", free=D(0), locked=D("0.5"), price=D(2_000)),
    )
    d = evaluate_entry(config(), account(balances=balances), proposal())
    assert d.outcome is Outcome.REJECTED
    assert d.alerts
    assert "80.0% of the balance is locked" in d.alerts[0]
    balances = (Balance("USDT", free=D(4_000), locked=D(6_000)),)
    assert evaluate_entry(config(), account(balances=balances), proposal()).approved


def test_missing_stop_uses_atr_stop_and_no_atr_rejects():
    d = evaluate_entry(config(), account(), proposal(stop=None, atr=D(1), target=D(110)))
    assert d.stop == D(98)
    d = evaluate_entry(config(), account(), proposal(stop=None, atr=None))
    assert d.outcome is Outcome.REJECTED
    assert evaluate_entry(config(), account(), proposal(stop=D(101))).outcome is Outcome.REJECTED


def test_quantity_step_and_exchange_minimums():
    d = evaluate_entry(config(max_position_notional=D(1234)), account(),
                       proposal(quantity_step=D("0.1")))  # fmt: skip
    assert d.quantity == D("12.3")
    d = evaluate_entry(config(), account(), proposal(min_notional=D(5_000)))
    assert d.outcome is Outcome.REJECTED
    assert "below the symbol's minimum" in d.reasons[-1]


def test_pyramid_addition_is_capped_by_heat():
    held = position("ETHUSDT", qty="10", mark="104", stop="102")
    acc = account(positions=(held, position("BTCUSDT", qty="10", stop="50")))  # heat 520
    add = proposal(entry=D(104), stop=D(102), addition=True, quantity=D(500), target=None)
    d = evaluate_entry(config(max_position_pct=D(1)), acc, add)
    # Cap 600 - 520 used = 80 of room at 2 per unit.
    assert d.quantity == D(40)
    assert verdict(d, "min_reward_risk").passed


def test_bad_configuration_names_field_and_rule():
    with pytest.raises(ParameterErrors) as info:
        config(risk_per_trade=D("0.5"), drawdown_mode="panic", max_open_positions=0)
    errors = info.value.as_dict()
    assert errors["risk_per_trade"] == "must be in (0, 0.1]"
    assert errors["drawdown_mode"] == "must be one of halt, reduce_only"
    assert errors["max_open_positions"] == "must be an integer of at least 1"
    with pytest.raises(ParameterErrors) as info:
        ExitConfig(ladder=(LadderStep(D("0.04"), D("0.5")), LadderStep(D("0.02"), D(1))))
    assert info.value.as_dict() == {"ladder[1].gain": "must be above the previous step"}
    with pytest.raises(ParameterErrors):
        config(sector_caps={"defi": D("0.3")})
    with pytest.raises(ParameterErrors):
        config(risk_per_trade=0.01)  # a float is refused: money is Decimal


def test_money_helpers_are_explicit():
    assert to_decimal("1.10", "x") == Decimal("1.10")
    with pytest.raises(ParameterError, match="x: must be a Decimal"):
        to_decimal(1.1, "x")
    assert float_to_decimal(0.1) == Decimal("0.1")
    assert float_to_decimal(float("nan")) is None
    assert floor_to_step(D("1.2399"), D("0.01")) == D("1.23")


def test_correlation_matrix_row_feeds_the_proposal():
    import numpy as np

    from apps.risk.engine.state import correlations_for
    from apps.strategies.engine.indicators.batch import correlation_matrix

    rng = np.random.default_rng(3)
    base = np.cumsum(rng.normal(0, 0.01, 200))
    closes = {
        "AUSDT": np.exp(base),
        "BUSDT": np.exp(base + rng.normal(0, 0.0005, 200)),  # moves with A
        "CUSDT": np.exp(np.cumsum(rng.normal(0, 0.01, 200))),
    }
    row = correlations_for("AUSDT", correlation_matrix(closes, 30))
    assert set(row) == {"BUSDT", "CUSDT"}
    assert row["BUSDT"] > 0.9 > abs(row["CUSDT"])
    acc = account(positions=(position("BUSDT", stop="99.5"),))
    d = evaluate_entry(config(), acc, proposal(symbol="AUSDT", correlations=row))
    assert d.outcome is Outcome.REJECTED


def test_floats_are_refused_at_the_risk_boundary():
    with pytest.raises(ParameterError, match="entry: must be a Decimal"):
        evaluate_entry(config(), account(), proposal(entry=100.0))
    with pytest.raises(ParameterError, match="equity: must be a Decimal"):
        evaluate_entry(config(), account(equity=10_000.0), proposal())


def test_proposal_from_signal_and_json_safe_records():
    import json

    from apps.risk.engine import TradeProposal
    from apps.strategies.engine import Action, Signal

    signal = Signal(
        Action.ENTER_LONG, "x", "trend_following", "1.0", "ETHUSDT", "1h", 0,
        stop=D(98), target=D(106), indicators={"adx": 25.0, "warm": float("nan")},
    )  # fmt: skip
    p = TradeProposal.from_signal(signal, entry=D(100), atr=1.25, sectors=frozenset({"LAYER1"}))
    assert (p.symbol, p.stop, p.target, p.atr) == ("ETHUSDT", D(98), D(106), D("1.25"))
    decision = evaluate_entry(config(), account(), p)
    record = json.loads(json.dumps({"signal": signal.as_record(), "risk": decision.as_record()}))
    assert record["signal"]["indicators"] == {"adx": 25.0, "warm": None}
    assert record["risk"]["quantity"] == str(decision.quantity)
    assert record["risk"]["verdicts"][0]["rule"] == "max_drawdown"
