"""Hypothesis properties of the risk engine and exit management."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.risk.engine import (
    AccountState,
    Balance,
    ExitConfig,
    OpenPosition,
    PositionState,
    RiskConfig,
    TradeProposal,
    TradeStats,
    evaluate_entry,
    evaluate_position,
)
from apps.risk.engine.exits import ExitKind, record_addition

D = Decimal
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TAGS = ("DEFI", "MEME", "LAYER1", "STABLECOIN", "AI")


def dec(lo, hi, places=4):
    return st.decimals(min_value=D(lo), max_value=D(hi), places=places,
                       allow_nan=False, allow_infinity=False)  # fmt: skip


@st.composite
def open_positions(draw):
    n = draw(st.integers(0, 6))
    out = []
    for i in range(n):
        mark = draw(dec("0.01", "1000"))
        stop = draw(st.none() | dec("0", "1000"))
        out.append(OpenPosition(
            symbol=f"P{i}USDT",
            quantity=draw(dec("0", "50")),
            entry_price=draw(dec("0.01", "1000")),
            mark_price=mark,
            stop_price=stop,
            sectors=frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=2))),
        ))  # fmt: skip
    return tuple(out)


@st.composite
def scenarios(draw):
    equity = draw(dec("100", "1000000", 2))
    cfg = RiskConfig(
        sizing_method=draw(st.sampled_from(["fixed_fractional", "volatility", "kelly"])),
        risk_per_trade=draw(dec("0.001", "0.05")),
        max_position_pct=draw(dec("0.01", "1")),
        max_position_notional=draw(st.none() | dec("10", "100000", 2)),
        max_portfolio_heat=draw(dec("0.01", "0.3")),
        correlation_action=draw(st.sampled_from(["reject", "scale"])),
        kelly_min_trades=draw(st.integers(1, 50)),
        max_open_positions=draw(st.integers(1, 10)),
        max_trades_per_day=None,
        daily_loss_limit_pct=None,
    )
    entry = draw(dec("0.01", "1000"))
    stop = draw(st.none() | st.builds(lambda f: entry * f, dec("0.5", "0.999")))
    positions = draw(open_positions())
    proposal = TradeProposal(
        symbol=draw(st.sampled_from(["NEWUSDT", "P0USDT"])),
        entry=entry,
        stop=stop,
        target=entry * draw(dec("1", "3")),
        atr=draw(st.none() | dec("0.0001", "50")),
        sectors=frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=2))),
        correlations={p.symbol: draw(st.floats(-1, 1)) for p in positions},
        accumulate=draw(st.booleans()),
        addition=(addition := draw(st.booleans())),
        quantity=draw(dec("0.001", "1000")) if addition else None,
        quantity_step=draw(st.none() | st.sampled_from([D("0.001"), D("1")])),
    )
    stats = TradeStats(
        trades=draw(st.integers(0, 100)),
        wins=draw(st.integers(0, 100)),
        average_win=draw(dec("0", "100")),
        average_loss=draw(dec("0", "100")),
    )
    stats = stats._replace(wins=min(stats.wins, stats.trades))
    account = AccountState(
        equity=equity,
        peak_equity=equity * draw(dec("1", "1.3")),
        day_start_equity=equity,
        positions=positions,
        balances=(Balance("USDT", free=draw(dec("0", "1000000", 2)), locked=D(0)),),
        stats=stats,
    )
    return cfg, account, proposal


@SETTINGS
@given(scenarios())
def test_size_is_never_negative_nor_above_any_cap(scenario):
    cfg, account, proposal = scenario
    decision = evaluate_entry(cfg, account, proposal)
    assert decision.quantity >= 0
    if not decision.approved:
        assert decision.quantity == 0
        return
    assert decision.quantity > 0
    for verdict in decision.verdicts:
        assert verdict.passed
        if verdict.max_quantity is not None:
            assert decision.quantity <= verdict.max_quantity, verdict.rule
    held = sum((p.value for p in account.positions if p.symbol == proposal.symbol), D(0))
    assert held + decision.notional <= account.equity * cfg.max_position_pct
    if cfg.max_position_notional is not None:
        assert held + decision.notional <= cfg.max_position_notional


@SETTINGS
@given(scenarios())
def test_after_approval_heat_and_sector_exposure_stay_within_limits(scenario):
    cfg, account, proposal = scenario
    decision = evaluate_entry(cfg, account, proposal)
    if not decision.approved:
        return
    heat_after = account.heat + decision.risk_amount
    assert heat_after <= account.equity * cfg.max_portfolio_heat
    for tag in proposal.sectors:
        cap = cfg.sector_caps.get(tag)
        if cap is not None:
            assert account.sector_exposure(tag) + decision.notional <= account.equity * cap


@st.composite
def price_paths(draw):
    entry = draw(dec("1", "1000"))
    moves = draw(st.lists(dec("-0.05", "0.06"), min_size=1, max_size=60))
    path, price = [], entry
    for move in moves:
        price = max(D("0.0001"), price * (1 + move))
        path.append(price)
    return entry, path


EXIT_CONFIGS = st.builds(
    ExitConfig,
    trailing_mode=st.sampled_from(["profit_share", "atr"]),
    trailing_activation=dec("0", "0.05"),
    breakeven_trigger=dec("0.001", "0.05"),
    fee_rate=dec("0", "0.005"),
    time_exit_hours=st.none() | st.integers(1, 100),
    pyramid_max_additions=st.integers(0, 3),
)


def run_path(entry, path, config, atr, add_fills):
    state = PositionState(
        entry_price=entry,
        quantity=D(10),
        original_quantity=D(10),
        opened_at_ms=0,
        stop_price=entry * D("0.95"),
        highest_price=entry,
    )
    history = []
    for hour, price in enumerate(path, start=1):
        plan = evaluate_position(state, price=price, now_ms=hour * 3_600_000,
                                 config=config, atr=atr)  # fmt: skip
        history.append((state, plan))
        state = plan.state
        if plan.closes:
            break
        for action in plan.actions:
            if action.kind is ExitKind.ADD and add_fills:
                state = record_addition(state, action.quantity, price)
    return history


@SETTINGS
@given(price_paths(), EXIT_CONFIGS, dec("0.01", "20"), st.booleans())
def test_stops_only_tighten(path, config, atr, add_fills):
    entry, prices = path
    for before, plan in run_path(entry, prices, config, atr, add_fills):
        if before.stop_price is not None and plan.state.stop_price is not None:
            assert plan.state.stop_price >= before.stop_price
        if before.stop_price is not None:
            assert plan.state.stop_price is not None


@SETTINGS
@given(price_paths(), EXIT_CONFIGS, dec("0.01", "20"), st.booleans())
def test_break_even_never_below_entry_plus_fees_once_triggered(path, config, atr, add_fills):
    entry, prices = path
    for _, plan in run_path(entry, prices, config, atr, add_fills):
        state = plan.state
        if state.breakeven_done and not plan.closes:
            cost = state.entry_price * (1 + config.fee_rate)
            assert state.stop_price * (1 - config.fee_rate) >= cost


@SETTINGS
@given(price_paths(), EXIT_CONFIGS, dec("0.01", "20"), st.booleans())
def test_ladder_never_sells_more_than_the_position(path, config, atr, add_fills):
    entry, prices = path
    for before, plan in run_path(entry, prices, config, atr, add_fills):
        sold = sum((a.quantity for a in plan.actions if a.kind in
                    (ExitKind.SELL, ExitKind.EXIT_ALL)), D(0))  # fmt: skip
        assert all(a.quantity >= 0 for a in plan.actions)
        assert sold <= before.quantity
        assert plan.state.quantity == before.quantity - sold
        assert plan.state.quantity >= 0
