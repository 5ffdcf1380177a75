"""Properties of the engine on random series (hypothesis) and on real data: equity is
cash plus holdings, no fill outside its candle, stop first, no look-ahead, and the
fast path decides exactly like evaluating every bar."""

from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.backtest.engine import (
    BacktestSettings,
    FillModel,
    MarketRules,
    SmaCross,
    compute_signals,
    load_klines,
    load_npy,
    run_backtest,
    save_npy,
    synthetic_candles,
)
from apps.backtest.engine.fills import to_price
from apps.risk.engine import RiskConfig
from apps.strategies.engine import registry
from apps.strategies.engine.signals import Action

from .support import ETHBTC, MINUTE, Scripted

ETH = load_klines(ETHBTC)


@st.composite
def scripted_runs(draw):
    n = draw(st.integers(5, 60))
    candles = synthetic_candles(
        n, seed=draw(st.integers(0, 10_000)), volatility=0.01, interval_ms=MINUTE
    )
    candles["open_time"] = 1_704_067_200_000 + np.arange(n) * MINUTE
    closes = candles["close"]
    script = {}
    for i in draw(st.lists(st.integers(0, n - 1), max_size=12, unique=True)):
        if draw(st.booleans()):
            stop = float(closes[i]) * draw(st.floats(0.95, 0.999))
            target = float(closes[i]) * draw(st.floats(1.001, 1.05))
            script[i] = (Action.ENTER_LONG, stop, target)
        else:
            script[i] = (Action.EXIT, None, None)
    fill = FillModel(
        mode=draw(st.sampled_from(["next_open", "intrabar"])),
        commission=draw(st.sampled_from([D(0), D("0.001"), D("0.0075")])),
    )
    step = draw(st.sampled_from([D(0), D("0.001"), D(1)]))
    return candles, script, fill, step


@settings(max_examples=150, deadline=None)
@given(scripted_runs())
def test_equity_is_cash_plus_holdings_and_fills_stay_in_their_candle(run):
    candles, script, fill, step = run
    s = BacktestSettings(
        symbol="T", interval="1m", initial_cash=D(1000), fill=fill, market=MarketRules(step)
    )
    result = run_backtest(Scripted(script), candles, s)
    last_close = to_price(candles["close"][-1])
    assert result.final_equity == result.final_cash + result.final_quantity * last_close
    assert float(result.final_equity) == pytest.approx(result.equity[-1], rel=1e-9)
    assert result.final_cash >= 0
    realized = sum((t.pnl for t in result.trades), D(0))
    if result.final_quantity == 0:
        # Cash runs at Decimal's 28 digits, the book at 60: equal to the 18 stored places.
        assert abs(result.final_cash - (D(1000) + realized)) < D("1e-18")
    for t in result.trades:
        for bar, price in ((t.entry_bar, t.entry_price), (t.exit_bar, t.exit_price)):
            assert to_price(candles["low"][bar]) <= price <= to_price(candles["high"][bar])
        assert t.entry_bar > min(k for k in script if script[k][0] is Action.ENTER_LONG)
        expected_fee = (t.entry_price + t.exit_price) * t.quantity * fill.commission
        assert t.fees == pytest.approx(expected_fee, rel=D("1e-20"), abs=D("1e-20"))


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.90, 0.999),
    st.floats(1.001, 1.10),
    st.floats(0.5, 1.5),
    st.floats(0.0, 1.0),
)
def test_a_candle_touching_stop_and_target_always_takes_the_stop(stop_f, target_f, o, span):
    entry = 100.0
    stop, target = entry * stop_f, entry * target_f
    opening = stop + (target - stop) * min(max(o - 0.5, 0.0), 1.0)
    low = stop * (1 - span / 100)
    high = target * (1 + span / 100)
    rows = [(entry, entry, entry, entry)] * 3 + [(opening, high, low, opening), (90, 90, 90, 90)]
    from .support import bars

    result = run_backtest(
        Scripted({1: (Action.ENTER_LONG, stop, target)}),
        bars(rows),
        BacktestSettings(symbol="T", interval="1m", fill=FillModel(mode="intrabar")),
    )
    (trade,) = result.trades
    assert trade.exit_bar == 3
    assert trade.exit_price == min(to_price(stop), to_price(opening))
    assert trade.exit_reason.startswith("stop")


@pytest.mark.parametrize(
    ("key", "params"),
    [("trend_following", {}), ("breakout", {}), ("trend_following", {"fast": 5, "slow": 9})],
)
@pytest.mark.parametrize("data", ["ETHBTC", "synthetic"])
def test_fast_path_signals_equal_evaluating_every_bar(key, params, data):
    candles = ETH if data == "ETHBTC" else synthetic_candles(20_000, seed=3)
    strategy = registry.create(key, params)
    fast = compute_signals(strategy, candles, "X", "5m")
    full = compute_signals(strategy, candles, "X", "5m", fast=False)
    assert fast.evaluated < full.evaluated
    assert np.array_equal(fast.actions, full.actions)
    assert fast.signals == full.signals
    assert len(fast.signals) > 0


def test_sma_fast_path_on_flat_prices():
    candles = synthetic_candles(3000, seed=5)
    flat = candles.copy()
    for name in ("open", "high", "low", "close"):
        flat[name][1000:1200] = 1.0  # equal SMAs: ties must not be missed
    strategy = SmaCross({"fast": 10, "slow": 30})
    fast = compute_signals(strategy, flat, "X", "1m")
    full = compute_signals(strategy, flat, "X", "1m", fast=False)
    assert np.array_equal(fast.actions, full.actions)


RISK = RiskConfig(max_trades_per_day=20, daily_loss_limit_pct=D("0.05"))
RISKY = BacktestSettings(
    symbol="ETHBTC",
    initial_cash=D(10),
    fill=FillModel(mode="intrabar", commission=D("0.001"), slippage=D("0.0005")),
    market=MarketRules(step_size=D("0.001"), min_qty=D("0.001"), min_notional=D("0.001")),
    risk=RISK,
)


def test_full_risk_engine_and_exits_on_real_data():
    strategy = registry.create("trend_following", {"fast": 5, "slow": 13, "adx_min": 10.0})
    result = run_backtest(strategy, ETH, RISKY)
    assert len(result.trades) >= 3
    reasons = {t.exit_reason.split(" ")[0] for t in result.trades}
    assert reasons & {"stop", "take", "open", "target", "fast"}
    for t in result.trades:
        assert t.initial_risk is not None
        assert t.initial_risk > 0
        # Risk sizing: 1% of equity at risk per trade, never all-in.
        assert t.invested < D(10) * RISK.max_position_pct * D("1.01")
    m = result.metrics
    assert m.trades == len(result.trades)
    assert -1 <= m.max_drawdown <= 0
    assert 0 < m.exposure < 1


@pytest.mark.parametrize("cut", [400, 1500, 3333, 5000])
def test_truncating_the_data_never_changes_earlier_decisions(cut):
    strategy = registry.create("trend_following", {"fast": 5, "slow": 13, "adx_min": 10.0})
    full = run_backtest(strategy, ETH, RISKY)
    short = run_backtest(strategy, ETH[:cut], RISKY)
    full_signals = compute_signals(strategy, ETH, "ETHBTC", "5m")
    short_signals = compute_signals(strategy, ETH[:cut], "ETHBTC", "5m")
    assert np.array_equal(full_signals.actions[:cut], short_signals.actions)
    closed_before = [t for t in full.trades if t.exit_bar < cut]
    assert short.trades[: len(closed_before)] == closed_before
    assert np.allclose(full.equity[:cut], short.equity)


def test_memory_mapped_history_gives_the_same_result(tmp_path):
    path = save_npy(ETH, tmp_path / "ethbtc.npy")
    mapped = load_npy(path)
    assert isinstance(mapped, np.memmap)
    s = BacktestSettings(symbol="ETHBTC", initial_cash=D(1))
    strategy = SmaCross({"fast": 10, "slow": 30})
    assert run_backtest(strategy, mapped, s).trades == run_backtest(strategy, ETH, s).trades
