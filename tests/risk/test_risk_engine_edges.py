"""Edges of the risk engine's rules, sizing and decision: each limit exactly at, just
below and just above its threshold, and the numbers each reason reports. Written
against the mutants mutmut found alive (docs/testing.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.risk.engine import Balance, Outcome, evaluate_entry, rules
from apps.risk.engine.decision import RiskDecision, RuleVerdict
from apps.risk.engine.engine import heat_after
from apps.risk.engine.sizing import base_quantity, kelly_fraction, risk_fraction
from apps.risk.engine.state import (
    AccountState,
    OpenPosition,
    TradeProposal,
    account_totals,
    correlations_for,
)
from apps.strategies.engine.errors import ParameterError
from apps.strategies.engine.signals import Action, Signal
from tests.engines.risk_builders import D, account, config, position, proposal, stats


def verdict(decision, rule) -> RuleVerdict:
    return next(v for v in decision.verdicts if v.rule == rule)


def rule_names(decision) -> list[str]:
    return [v.rule for v in decision.verdicts]


# --- sizing ----------------------------------------------------------------------------


def test_kelly_fraction_is_zero_without_a_track_record():
    good = dict(trades=10, wins=6, average_win=D(2), average_loss=D(1))
    assert kelly_fraction(stats(**good), D(1), D(1)) == D("0.4")  # 0.6 - 0.4 / 2
    for missing in ({"trades": 0}, {"average_loss": D(0)}, {"average_win": D(0)}):
        assert kelly_fraction(stats(**{**good, **missing}), D(1), D(1)) == 0
    assert kelly_fraction(stats(**{**good, "average_loss": D(-1)}), D(1), D(1)) == 0
    assert kelly_fraction(stats(**{**good, "average_win": D(-1)}), D(1), D(1)) == 0
    # A negative edge clamps to zero, never to a short.
    assert kelly_fraction(stats(trades=10, wins=2, average_win=D(1), average_loss=D(1)),
                          D(1), D(1)) == 0  # fmt: skip
    assert kelly_fraction(stats(**good), D("0.5"), D(1)) == D("0.2")
    assert kelly_fraction(stats(**good), D(1), D("0.3")) == D("0.3")


def test_risk_fraction_names_its_method():
    assert risk_fraction(config(), stats()) == (D("0.01"), "risk 1% of equity")
    assert risk_fraction(config(risk_per_trade=D("0.02")), stats())[0] == D("0.02")
    kelly = config(sizing_method="kelly", kelly_min_trades=10)
    few = stats(trades=9, wins=9, average_win=D(1), average_loss=D(1))
    assert risk_fraction(kelly, few) == (
        D("0.01"),
        "Kelly needs 10 trades, have 9: risk 1% of equity",
    )
    enough = stats(trades=10, wins=6, average_win=D(2), average_loss=D(1))
    fraction, why = risk_fraction(kelly, enough)
    assert fraction == D("0.05")  # 0.4 x 0.25 = 0.1, capped at 0.05
    assert why == "fractional Kelly: risk 5.0000% of equity"


def test_base_quantity_divides_the_budget_by_the_stop_distance_in_valuation_currency():
    common = dict(config=config(), equity=D(10_000), stats=stats(), entry=D(100), atr=None)
    qty, why = base_quantity(stop=D(98), quote_rate=D(1), **common)
    assert (qty, why) == (D(50), "risk 1% of equity")
    qty, _ = base_quantity(stop=D(98), quote_rate=D(2), **common)
    assert qty == D(25)
    assert base_quantity(stop=D(100), quote_rate=D(1), **common) == (
        D(0),
        "stop distance is not positive",
    )
    assert base_quantity(stop=D(101), quote_rate=D(1), **common)[0] == 0


def test_volatility_sizing_needs_a_positive_atr_and_names_the_multiple():
    cfg = config(sizing_method="volatility")
    common = dict(config=cfg, equity=D(10_000), stats=stats(), entry=D(100), stop=D(1))
    qty, why = base_quantity(atr=D("0.5"), quote_rate=D(1), **common)
    assert qty == D(100)  # 100 / (2 x 0.5): the strategy's far stop is ignored
    assert why == "risk 1% of equity over 2 ATR"
    for atr in (None, D(0), D(-1)):
        assert base_quantity(atr=atr, quote_rate=D(1), **common) == (
            D(0),
            "volatility sizing needs a positive ATR",
        )


# --- gates -----------------------------------------------------------------------------


def test_drawdown_breaker_trips_exactly_at_the_limit():
    at = account(equity=D(8_500), day_start_equity=D(8_500))
    below = account(equity=D("8500.01"), day_start_equity=D(8_500))
    v = rules.drawdown_breaker(config(), at)
    assert v == RuleVerdict(
        "max_drawdown", False, "drawdown 15.00% reached the 15.00% limit (halt): no new entries"
    )
    assert rules.drawdown_breaker(config(), below) == RuleVerdict(
        "max_drawdown", True, "drawdown 15.00% < 15.00%"
    )
    assert account(peak_equity=D(0)).drawdown == 0
    assert account(equity=D(11_000)).drawdown == 0  # above the peak is no drawdown


def test_daily_loss_limits_trip_exactly_at_the_limit():
    cfg = config(daily_loss_limit_abs=D(100), daily_loss_limit_pct=None)
    assert rules.daily_loss(cfg, account(equity=D(9_900))) == RuleVerdict(
        "daily_loss", False, "today's loss 100 reached the limit 100"
    )
    assert rules.daily_loss(cfg, account(equity=D("9900.01"))) == RuleVerdict(
        "daily_loss", True, "today's result -99.99"
    )
    pct = config(daily_loss_limit_pct=D("0.02"))
    assert rules.daily_loss(pct, account(equity=D(9_800))) == RuleVerdict(
        "daily_loss", False, "today's loss 2.00% reached the limit 2.00%"
    )
    assert rules.daily_loss(pct, account(equity=D("9800.01"))).passed
    # No percentage without a positive day-start equity (no division by zero).
    assert rules.daily_loss(pct, account(day_start_equity=D(0), equity=D(-5))).passed
    off = config(daily_loss_limit_pct=None)
    assert rules.daily_loss(off, account(equity=D(1))) == RuleVerdict(
        "daily_loss", True, "today's result -9999"
    )


def test_trades_per_day_counts_exactly():
    assert rules.trades_per_day(config(), account(stats=stats(trades_today=3))) == RuleVerdict(
        "trades_per_day", False, "3 trades today, limit 3"
    )
    assert rules.trades_per_day(config(), account(stats=stats(trades_today=2))) == RuleVerdict(
        "trades_per_day", True, "2 trades today"
    )
    unlimited = config(max_trades_per_day=None)
    assert rules.trades_per_day(unlimited, account(stats=stats(trades_today=99))).passed


def test_cooldown_ends_on_the_minute_and_rounds_the_wait_up():
    now = 1_700_000_000_000
    losses = stats(consecutive_losses=3, last_loss_at_ms=now - 240 * 60_000)
    assert rules.loss_cooldown(config(), account(stats=losses, now_ms=now)) == RuleVerdict(
        "loss_cooldown", True, "cooldown over"
    )
    just = stats(consecutive_losses=3, last_loss_at_ms=now - 240 * 60_000 + 1)
    assert rules.loss_cooldown(config(), account(stats=just, now_ms=now)) == RuleVerdict(
        "loss_cooldown", False, "3 losses in a row: cooling down 1 more min"
    )
    exact = stats(consecutive_losses=3, last_loss_at_ms=now - 60 * 60_000)
    assert (
        "cooling down 180 more min"
        in rules.loss_cooldown(config(), account(stats=exact, now_ms=now)).reason
    )
    two = stats(consecutive_losses=2, last_loss_at_ms=now)
    assert rules.loss_cooldown(config(), account(stats=two, now_ms=now)) == RuleVerdict(
        "loss_cooldown", True, "2 losses in a row"
    )
    unknown_time = stats(consecutive_losses=3, last_loss_at_ms=None)
    assert rules.loss_cooldown(config(), account(stats=unknown_time)) == RuleVerdict(
        "loss_cooldown", False, "3 losses in a row"
    )
    off = config(cooldown_after_losses=None)
    assert rules.loss_cooldown(off, account(stats=stats(consecutive_losses=50))).passed


def test_reserved_balance_blocks_only_above_the_threshold():
    def usage(locked):
        balances = (Balance("USDT", D(100) - D(locked), D(locked)),)
        return account_totals(account(balances=balances))

    assert rules.reserved_balance(config(), usage(70)) == RuleVerdict(
        "reserved_balance", True, "70.0% of the balance locked"
    )
    assert rules.reserved_balance(config(), usage("70.1")) == RuleVerdict(
        "reserved_balance",
        False,
        "70.1% of the balance is locked in orders (limit 70%)",
    )


def test_open_positions_counts_symbols_and_lets_a_held_symbol_add():
    held = account(positions=tuple(position(f"S{i}USDT") for i in range(5)))
    totals = account_totals(held)
    assert rules.open_positions(config(), totals, "NEWUSDT") == RuleVerdict(
        "max_open_positions", False, "5 positions open, limit 5"
    )
    assert rules.open_positions(config(), totals, "S0USDT") == RuleVerdict(
        "max_open_positions", True, "adds to the open S0USDT position"
    )
    four = account_totals(account(positions=tuple(position(f"S{i}USDT") for i in range(4))))
    assert rules.open_positions(config(), four, "NEWUSDT") == RuleVerdict(
        "max_open_positions", True, "4 of 5"
    )


def test_reward_risk_accepts_exactly_the_minimum():
    at = rules.reward_risk(config(), proposal(target=D(104)), D(98))
    assert at == RuleVerdict("min_reward_risk", True, "reward:risk 2.00")
    below = rules.reward_risk(config(), proposal(target=D("103.99")), D(98))
    assert below == RuleVerdict("min_reward_risk", False, "reward:risk 2.00 < 2")
    for stop, target in ((D(100), D(110)), (D(98), D(100)), (D(101), D(110))):
        assert rules.reward_risk(config(), proposal(target=target), stop) == RuleVerdict(
            "min_reward_risk", False, "target or stop on the wrong side"
        )
    assert rules.reward_risk(config(), proposal(target=None), D(98)) == RuleVerdict(
        "min_reward_risk", False, "the signal has no target"
    )
    for flags in ({"accumulate": True}, {"addition": True}):
        assert rules.reward_risk(config(), proposal(target=None, **flags), D(98)) == RuleVerdict(
            "min_reward_risk", True, "not applicable to accumulation/additions"
        )


# --- caps ------------------------------------------------------------------------------


def test_position_caps_use_the_tighter_limit_net_of_holdings():
    acc = account()
    empty = account_totals(acc)
    assert rules.position_caps(config(), acc, empty, "ETHUSDT", D(100)) == RuleVerdict(
        "position_size", True, "at most 25% of equity", D(25)
    )
    tight = config(max_position_notional=D(1_000))
    assert rules.position_caps(tight, acc, empty, "ETHUSDT", D(100)) == RuleVerdict(
        "position_size", True, "at most notional cap 1000", D(10)
    )
    loose = config(max_position_notional=D(5_000))  # looser than 25%: the share wins
    assert rules.position_caps(loose, acc, empty, "ETHUSDT", D(100)).max_quantity == D(25)
    same = config(max_position_notional=D(2_500))
    assert rules.position_caps(same, acc, empty, "ETHUSDT", D(100)).reason == (
        "at most 25% of equity"
    )
    full = account_totals(account(positions=(position("ETHUSDT", qty="30", mark="100"),)))
    assert rules.position_caps(config(), acc, full, "ETHUSDT", D(100)) == RuleVerdict(
        "position_size", False, "at most 25% of equity", D(0)
    )
    other = account_totals(account(positions=(position("BTCUSDT", qty="30", mark="100"),)))
    assert rules.position_caps(config(), acc, other, "ETHUSDT", D(100)).max_quantity == D(25)


def test_cash_caps_by_free_quote_balance_when_known():
    acc = account(balances=(Balance("USDT", D(250), D(0)), Balance("BTC", D(1), D(0))))
    totals = account_totals(acc)
    p = proposal(quote_asset="USDT")
    assert rules.cash(totals, p) == RuleVerdict("free_balance", True, "250 USDT free", D("2.5"))
    broke = account_totals(account(balances=(Balance("USDT", D(0), D(5)),)))
    assert rules.cash(broke, p) == RuleVerdict("free_balance", False, "0 USDT free", D(0))
    assert rules.cash(totals, proposal(quote_asset="EUR")) == RuleVerdict(
        "free_balance", True, "quote balance not given: not checked"
    )


def test_correlation_looks_at_other_held_symbols_only():
    held = account(positions=(position("BTCUSDT"), position("ETHUSDT"), position("SOLUSDT")))
    totals = account_totals(held)
    correlations = {"ETHUSDT": 0.99, "BTCUSDT": float("nan"), "SOLUSDT": 0.5, "XRPUSDT": 0.95}
    p = proposal(correlations=correlations)
    # ETHUSDT is the proposal's own symbol, BTC's NaN is skipped, XRP is not held.
    assert rules.correlation(config(), totals, p, D(10)) == RuleVerdict(
        "correlation", True, "highest correlation 0.5"
    )
    none = rules.correlation(config(), totals, proposal(), D(10))
    assert none == RuleVerdict("correlation", True, "highest correlation None")
    at_cap = rules.correlation(config(), totals, proposal(correlations={"SOLUSDT": 0.8}), D(10))
    assert at_cap.passed
    assert at_cap.max_quantity is None
    assert rules.correlation(
        config(), totals, proposal(addition=True, correlations={"SOLUSDT": 1.0}), D(10)
    ) == RuleVerdict("correlation", True, "addition to the same symbol")


def test_correlation_picks_the_worst_and_scales_or_rejects():
    held = account(positions=(position("BTCUSDT"), position("SOLUSDT")))
    totals = account_totals(held)
    p = proposal(correlations={"SOLUSDT": 0.85, "BTCUSDT": 0.9})
    rejected = rules.correlation(config(), totals, p, D(10))
    assert rejected == RuleVerdict(
        "correlation", False, "returns correlate 0.90 with BTCUSDT (cap 0.8)", D(0)
    )
    scaled = rules.correlation(config(correlation_action="scale"), totals, p, D(10))
    assert scaled == RuleVerdict(
        "correlation",
        True,
        "returns correlate 0.90 with BTCUSDT (cap 0.8): size x0.50",
        D("5.000000000000000000000000000"),
    )
    perfect = proposal(correlations={"SOLUSDT": 1.0})
    assert rules.correlation(config(correlation_action="scale"), totals, perfect, D(10)) == (
        RuleVerdict("correlation", False, "returns correlate 1.00 with SOLUSDT (cap 0.8)", D(0))
    )


def test_sector_exposure_takes_the_tightest_capped_tag():
    acc = account(positions=(position("UNIUSDT", qty="20", mark="100", sectors=("DEFI",)),))
    totals = account_totals(acc)
    # DEFI: 30% of 10,000 - 2,000 held = 1,000 -> 10 units; LAYER1: 40% -> 40 units.
    p = proposal(sectors=frozenset({"LAYER1", "DEFI", "UNKNOWN"}))
    assert rules.sector_exposure(config(), acc, totals, p, D(100)) == RuleVerdict(
        "sector_exposure", True, "DEFI exposure cap 30% of equity", D(10)
    )
    untagged = rules.sector_exposure(config(), acc, totals, proposal(), D(100))
    assert untagged == RuleVerdict("sector_exposure", True, "no capped sector", None)
    full = account(positions=(position("UNIUSDT", qty="30", mark="100", sectors=("DEFI",)),))
    v = rules.sector_exposure(
        config(), full, account_totals(full), proposal(sectors=frozenset({"DEFI"})), D(100)
    )
    assert v == RuleVerdict("sector_exposure", False, "DEFI exposure cap 30% of equity", D(0))


def test_portfolio_heat_room_and_its_reason():
    acc = account(positions=(position("BTCUSDT", qty="100", mark="100", stop="97"),))
    totals = account_totals(acc)  # 300 at risk = 3% of equity
    v = rules.portfolio_heat(config(), acc, totals, D(2))
    assert v == RuleVerdict("portfolio_heat", True, "open risk 3.00% of equity, cap 6.00%", D(150))
    no_risk = rules.portfolio_heat(config(), acc, totals, D(0))
    assert no_risk.passed
    assert no_risk.max_quantity is None
    hot = account(positions=(position("BTCUSDT", qty="100", mark="100", stop="94"),))
    assert rules.portfolio_heat(config(), hot, account_totals(hot), D(2)) == RuleVerdict(
        "portfolio_heat", False, "open risk 6.00% of equity, cap 6.00%", D(0)
    )


# --- account aggregates ----------------------------------------------------------------


def test_account_totals_agree_with_the_position_properties():
    positions = (
        OpenPosition("AUSDT", D(2), D(10), D(12), D(9), frozenset({"DEFI"}), D(2)),
        OpenPosition("BUSDT", D(1), D(10), D(8), D(9), frozenset({"DEFI", "AI"})),
        OpenPosition("CUSDT", D(3), D(10), D(10), None),
        OpenPosition("AUSDT", D(1), D(10), D(12), D(12)),
    )
    balances = (Balance("USDT", D(60), D(20)), Balance("BTC", D(0), D(1), D(20)))
    acc = AccountState(D(1_000), D(1_000), D(1_000), balances, positions)
    totals = account_totals(acc)
    assert totals.heat == acc.heat == D(12) + D(0) + D(30) + D(0)
    assert totals.value_by_symbol == {"AUSDT": D(60), "BUSDT": D(8), "CUSDT": D(30)}
    assert totals.exposure_by_tag == {"DEFI": D(56), "AI": D(8)}
    assert acc.sector_exposure("DEFI") == D(56)
    assert totals.reserved_usage == acc.reserved_usage == D(40) / D(100)
    assert totals.free_by_asset == {"USDT": D(60), "BTC": D(0)}
    assert positions[0].value == D(48)
    assert positions[0].open_risk == D(12)
    assert positions[1].open_risk == 0
    assert positions[2].open_risk == D(30)
    assert balances[1].total_value == D(20)
    assert balances[1].locked_value == D(20)
    empty = account()
    assert account_totals(empty).reserved_usage == 0
    assert empty.reserved_usage == 0


def test_correlations_for_reads_one_row_without_the_diagonal():
    matrix = {("A", "B"): 0.5, ("A", "A"): 1.0, ("B", "A"): 0.5, ("A", "C"): -0.2}
    assert correlations_for("A", matrix) == {"B": 0.5, "C": -0.2}
    assert correlations_for("Z", matrix) == {}


# --- the decision ----------------------------------------------------------------------


def test_inputs_must_be_positive_and_decimal():
    for acc, p in ((account(equity=D(0)), proposal()), (account(), proposal(entry=D(0)))):
        d = evaluate_entry(config(), acc, p)
        assert d.outcome is Outcome.REJECTED
        assert d.verdicts == (
            RuleVerdict("inputs", False, "equity and entry price must be positive"),
        )
        assert (d.quantity, d.stop, d.target, d.halt) == (0, None, None, False)
    for field, acc, p in (
        ("peak_equity", account(peak_equity=1.0), proposal()),
        ("day_start_equity", account(day_start_equity=1), proposal()),
        ("target", account(), proposal(target=106.0)),
        ("atr", account(), proposal(atr=1.0)),
        ("quantity", account(), proposal(quantity=1.0)),
    ):
        with pytest.raises(ParameterError) as info:
            evaluate_entry(config(), acc, p)
        assert info.value.field == field


def test_an_approved_entry_lists_every_rule_in_order():
    d = evaluate_entry(config(max_position_pct=D(1)), account(), proposal())
    assert d.outcome is Outcome.APPROVED
    assert d.approved
    assert rule_names(d) == [
        "max_drawdown", "daily_loss", "trades_per_day", "loss_cooldown", "reserved_balance",
        "max_open_positions", "min_reward_risk", "sizing", "position_size", "free_balance",
        "correlation", "sector_exposure", "portfolio_heat",
    ]  # fmt: skip
    assert d.reasons == []
    assert d.alerts == ()
    assert d.halt is False
    assert (d.stop, d.target) == (D(98), D(106))


def test_halt_only_in_halt_mode_and_alerts_carry_the_reason():
    low = account(equity=D(8_000), day_start_equity=D(8_000))
    halted = evaluate_entry(config(), low, proposal())
    assert halted.halt is True
    assert halted.alerts == ("drawdown 20.00% reached the 15.00% limit (halt): no new entries",)
    assert halted.reasons[0].startswith("max_drawdown: drawdown 20.00%")
    reduce_only = evaluate_entry(config(drawdown_mode="reduce_only"), low, proposal())
    assert reduce_only.halt is False
    assert reduce_only.outcome is Outcome.REJECTED
    # The gates keep running after a failure so the record shows every reason.
    assert "daily_loss" in rule_names(halted)
    assert "min_reward_risk" in rule_names(halted)
    assert "sizing" not in rule_names(halted)


def test_reserved_balance_alert_reaches_the_decision():
    balances = (Balance("USDT", D(10), D(90)),)
    d = evaluate_entry(config(), account(balances=balances), proposal())
    assert d.outcome is Outcome.REJECTED
    assert d.halt is False
    assert d.alerts == ("90.0% of the balance is locked in orders (limit 70%)",)


def test_additions_skip_the_trade_count_and_need_a_quantity():
    busy = account(stats=stats(trades_today=3))
    add = proposal(addition=True, quantity=D(5), target=None)
    d = evaluate_entry(config(), busy, add)
    assert "trades_per_day" not in rule_names(d)
    assert d.outcome is Outcome.APPROVED
    assert d.quantity == D(5)
    assert verdict(d, "sizing") == RuleVerdict("sizing", True, "pyramid addition", D(5))
    for quantity in (None, D(0)):
        d = evaluate_entry(config(), account(), proposal(addition=True, quantity=quantity))
        assert d.outcome is Outcome.REJECTED
        assert verdict(d, "sizing") == RuleVerdict("sizing", False, "an addition needs a quantity")
        assert (d.stop, d.target) == (D(98), D(106))


def test_a_stop_must_sit_strictly_below_the_entry_and_not_below_zero():
    for stop in (D(100), D(101), D("-0.01")):
        d = evaluate_entry(config(), account(), proposal(stop=stop))
        assert d.outcome is Outcome.REJECTED
        assert verdict(d, "stop") == RuleVerdict(
            "stop", False, "no usable stop below the entry (no stop and no ATR)"
        )
        assert d.stop == stop
        assert d.target == D(106)
    zero = evaluate_entry(
        config(max_position_pct=D(1), max_portfolio_heat=D(1)),
        account(),
        proposal(stop=D(0), target=D(400)),
    )
    assert zero.approved
    assert zero.stop == 0
    assert zero.quantity == D(1)


def test_a_zero_size_is_rejected_with_its_reason():
    d = evaluate_entry(config(sizing_method="volatility"), account(), proposal(atr=None))
    assert d.outcome is Outcome.REJECTED
    assert verdict(d, "sizing") == RuleVerdict(
        "sizing", False, "volatility sizing needs a positive ATR", D(0)
    )
    assert "position_size" not in rule_names(d)


def test_exchange_minimums_are_inclusive():
    cfg = config(max_position_pct=D(1))
    # 50 units at 100: exactly the minimum quantity and notional pass.
    ok = evaluate_entry(cfg, account(), proposal(min_quantity=D(50), min_notional=D(5_000)))
    assert ok.outcome is Outcome.APPROVED
    assert ok.quantity == D(50)
    for minimums in ({"min_quantity": D("50.01")}, {"min_notional": D("5000.01")}):
        d = evaluate_entry(cfg, account(), proposal(**minimums))
        assert d.outcome is Outcome.REJECTED
        assert d.verdicts[-1] == RuleVerdict(
            "exchange_minimum", False, "50.0000000000 is below the symbol's minimum"
        )


def test_caps_resize_to_the_tightest_and_quantize_again():
    cfg = config(max_position_notional=D("1234.5"))
    d = evaluate_entry(cfg, account(), proposal(quantity_step=D("0.1")))
    assert d.outcome is Outcome.RESIZED
    assert d.quantity == D("12.3")  # 12.345 floored to the step
    assert d.notional == D("1230.0")
    assert d.risk_amount == D("24.6")
    assert verdict(d, "sizing").max_quantity == D(50)
    # A cap that allows nothing rejects even though every gate passed.
    broke = account(balances=(Balance("USDT", D(0), D(0)), Balance("ETH", D(1), D(0), D(10))))
    d = evaluate_entry(config(), broke, proposal(quote_asset="USDT"))
    assert d.outcome is Outcome.REJECTED
    assert d.reasons == ["free_balance: 0 USDT free"]


def test_values_in_another_quote_are_converted_for_caps_and_risk():
    # An ETH/BTC entry valued in USDT: 1 BTC = 20 USDT here.
    d = evaluate_entry(
        config(max_position_pct=D(1)),
        account(),
        proposal(entry=D(5), stop=D(4), target=D(8), quote_rate=D(20)),
    )
    assert d.quantity == D(5)  # 100 USDT risk / (1 BTC x 20)
    assert d.risk_amount == D(100)
    assert d.notional == D(500)


def test_heat_after_adds_the_new_risk_to_the_open_risk():
    acc = account(positions=(position("BTCUSDT", qty="10", mark="100", stop="90"),))
    d = evaluate_entry(config(max_position_pct=D(1)), acc, proposal())
    assert d.risk_amount == D(100)
    assert heat_after(acc, d) == D("0.02")  # (100 open + 100 new) / 10,000


def test_decision_record_is_json_safe():
    d = RiskDecision(
        Outcome.RESIZED, D("1.5"), None, D(3), D(1), D(2),
        (RuleVerdict("a", True, "fine"), RuleVerdict("b", False, "no", D("0.5"))),
        ("alert",), True,
    )  # fmt: skip
    assert d.as_record() == {
        "outcome": "resized",
        "quantity": "1.5",
        "stop": None,
        "target": "3",
        "risk_amount": "1",
        "notional": "2",
        "halt": True,
        "alerts": ["alert"],
        "verdicts": [
            {"rule": "a", "passed": True, "reason": "fine", "max_quantity": None},
            {"rule": "b", "passed": False, "reason": "no", "max_quantity": "0.5"},
        ],
    }
    assert d.reasons == ["b: no"]
    assert d.approved
    assert not RiskDecision(Outcome.REJECTED, D(0), None, None, D(0), D(0), ()).approved


def test_a_proposal_from_a_signal_converts_its_atr():
    signal = Signal(
        Action.ENTER_LONG, "dip bought", "dca", "1", "ETHUSDT", "1h", 0,
        stop=D(98), target=D(106), accumulate=True,
    )  # fmt: skip
    p = TradeProposal.from_signal(signal, entry=D(100), atr=None, quote_asset="USDT")
    assert (p.symbol, p.stop, p.target) == ("ETHUSDT", D(98), D(106))
    assert (p.atr, p.accumulate, p.quote_asset, p.entry) == (None, True, "USDT", D(100))
    assert TradeProposal.from_signal(signal, entry=D(100), atr=2.5).atr == D("2.5")


# --- fractional quantities, ties and representations -----------------------------------


def test_kelly_needs_only_one_trade_and_uses_the_payoff_ratio():
    one = stats(trades=1, wins=1, average_win=D(2), average_loss=D(1))
    assert kelly_fraction(one, D("0.25"), D(1)) == D("0.25")  # W = 1: all of the multiplier
    # Small amounts: a win of 0.5 against a loss of 0.25 is a payoff of 2, not 0.125.
    small = stats(trades=10, wins=6, average_win=D("0.5"), average_loss=D("0.25"))
    assert kelly_fraction(small, D(1), D(1)) == D("0.4")


def test_caps_allow_fractions_of_a_unit():
    acc = account(equity=D(100), peak_equity=D(100), day_start_equity=D(100))
    totals = account_totals(acc)
    # 25% of 100 = 25 at 50 a unit: half a unit is still a size.
    assert rules.position_caps(config(), acc, totals, "BTCUSDT", D(50)) == RuleVerdict(
        "position_size", True, "at most 25% of equity", D("0.5")
    )
    funded = account_totals(account(balances=(Balance("USDT", D(50), D(0)),)))
    assert rules.cash(funded, proposal(quote_asset="USDT")) == RuleVerdict(
        "free_balance", True, "50 USDT free", D("0.5")
    )
    # 6% heat of 100 = 6 of room at 12 risk per unit: half a unit.
    heat = rules.portfolio_heat(config(), acc, totals, D(12))
    assert (heat.passed, heat.max_quantity) == (True, D("0.5"))
    # A risk per unit below 1 still caps the size.
    assert rules.portfolio_heat(config(), acc, totals, D("0.5")).max_quantity == D(12)
    sector = rules.sector_exposure(config(), acc, totals, proposal(sectors={"MEME"}), D(20))
    assert (sector.passed, sector.max_quantity) == (True, D("0.5"))  # 10% of 100 / 20


def test_sector_ties_and_unknown_tags_sorted_first():
    acc = account()
    totals = account_totals(acc)
    # "ABC" has no cap and sorts first: it must not end the search.
    v = rules.sector_exposure(config(), acc, totals, proposal(sectors={"ABC", "DEFI"}), D(100))
    assert v == RuleVerdict("sector_exposure", True, "DEFI exposure cap 30% of equity", D(30))
    # Two tags with the same room: the first in sorted order is named.
    caps = config(sector_caps={"AAA": D("0.1"), "BBB": D("0.1")})
    tie = rules.sector_exposure(caps, acc, totals, proposal(sectors={"BBB", "AAA"}), D(100))
    assert tie.reason == "AAA exposure cap 10% of equity"


def test_a_correlation_tie_names_the_first_held_symbol():
    held = account(positions=(position("SOLUSDT"), position("BTCUSDT")))
    p = proposal(correlations={"BTCUSDT": 0.9, "SOLUSDT": 0.9})
    v = rules.correlation(config(), account_totals(held), p, D(10))
    assert v.reason == "returns correlate 0.90 with SOLUSDT (cap 0.8)"


def test_a_rejection_records_zero_risk_and_notional_and_plain_zero_sizes():
    d = evaluate_entry(config(sizing_method="volatility"), account(), proposal(atr=None))
    assert d.risk_amount == 0
    assert d.notional == 0
    record = d.as_record()
    assert (record["risk_amount"], record["notional"], record["quantity"]) == ("0", "0", "0")
    assert record["stop"] == "98"
    sizing = next(v for v in record["verdicts"] if v["rule"] == "sizing")
    assert sizing["max_quantity"] == "0"


def test_sector_exposure_of_an_account_is_a_decimal_even_when_empty():
    assert isinstance(account().sector_exposure("AI"), Decimal)
    assert isinstance(account().heat, Decimal)


def test_late_rejections_keep_the_stop_and_target_and_never_halt():
    cfg = config(max_position_pct=D(1))
    cases = {
        "addition without quantity": (cfg, account(), proposal(addition=True)),
        "zero size": (config(sizing_method="volatility"), account(), proposal(atr=None)),
        "cap allows nothing": (
            cfg,
            account(balances=(Balance("USDT", D(0), D(0)), Balance("ETH", D(1), D(0), D(10)))),
            proposal(quote_asset="USDT"),
        ),
        "exchange minimum": (cfg, account(), proposal(min_quantity=D(51))),
        "gate failed": (cfg, account(stats=stats(trades_today=3)), proposal()),
    }
    for name, (c, acc, p) in cases.items():
        d = evaluate_entry(c, acc, p)
        assert d.outcome is Outcome.REJECTED, name
        assert d.halt is False, name
        assert (d.stop, d.target) == (D(98), D(106)), name


def test_a_halting_breaker_halts_even_when_the_stop_is_unusable():
    low = account(equity=D(8_000), day_start_equity=D(8_000))
    d = evaluate_entry(config(), low, proposal(stop=None, atr=None))
    assert d.outcome is Outcome.REJECTED
    assert d.halt is True
    assert d.verdicts[-1].rule == "stop"


def test_cheap_assets_and_small_accounts_are_sized_not_refused():
    # Entry and stop below one unit of quote (a 0.5 USDT coin).
    cheap = evaluate_entry(
        config(max_position_pct=D(1)),
        account(),
        proposal(entry=D("0.5"), stop=D("0.49"), target=D("0.53")),
    )
    assert cheap.approved
    assert cheap.quantity == D(10_000)  # 100 at risk / 0.01
    # An account worth less than one unit of the valuation currency.
    tiny = account(equity=D("0.5"), peak_equity=D("0.5"), day_start_equity=D("0.5"))
    d = evaluate_entry(config(max_position_pct=D(1), daily_loss_limit_pct=None), tiny, proposal())
    assert d.approved
    assert d.quantity == D("0.0025")  # 0.005 at risk / 2


def test_sizes_below_one_unit_pass_sizing_and_additions():
    btc = proposal(entry=D(30_000), stop=D(29_800), target=D(31_000))
    d = evaluate_entry(config(max_position_pct=D(1)), account(), btc)
    assert verdict(d, "sizing") == RuleVerdict("sizing", True, "risk 1% of equity", D("0.5"))
    assert d.quantity == D("0.333333333333")  # all of the equity buys only a third
    add = evaluate_entry(config(), account(), proposal(addition=True, quantity=D("0.5")))
    assert add.approved
    assert add.quantity == D("0.5")


def test_a_cap_that_rounds_to_nothing_rejects():
    funded = account(balances=(Balance("USDT", D(50), D(0)),))
    d = evaluate_entry(config(), funded, proposal(quote_asset="USDT", quantity_step=D(1)))
    assert d.outcome is Outcome.REJECTED
    assert d.quantity == 0
    assert verdict(d, "free_balance").passed  # half a unit was allowed...
    assert "exchange_minimum" not in rule_names(d)  # ...but no whole step: refused here


def test_a_float_stop_is_refused():
    with pytest.raises(ParameterError) as info:
        evaluate_entry(config(), account(), proposal(stop=98.0))
    assert info.value.field == "stop"


def test_balances_and_losses_below_one_unit_still_count():
    tiny = account(equity=D("0.4"), peak_equity=D("0.5"), day_start_equity=D("0.5"))
    assert rules.daily_loss(config(max_drawdown=D(1)), tiny) == RuleVerdict(
        "daily_loss", False, "today's loss 20.00% reached the limit 2.00%"
    )
    small = account_totals(account(balances=(Balance("USDT", D("0.1"), D("0.4")),)))
    assert small.reserved_usage == D("0.8")
