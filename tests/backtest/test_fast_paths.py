"""The speed paths decide and book exactly like the reference paths: exact signals
against ``evaluate`` on every bar, the plain loop against the general loop, a sweep
against separate runs."""

import pickle
from decimal import Context, localcontext
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
    plainloop,
    run_backtest,
    run_sweep,
    synthetic_candles,
)
from apps.backtest.engine.columns import CandleColumns
from apps.backtest.engine.metrics import compute_metrics
from apps.backtest.engine.runner import _Run
from apps.backtest.engine.signals import HOLD, full_context
from apps.backtest.engine.tradelist import TradeList, columns_of
from apps.strategies.engine import registry
from apps.strategies.engine.context import MarketContext


def _with_ties(candles: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat stretches: equal SMAs, the ties a margin must not get wrong."""
    out = candles.copy()
    for _ in range(3):
        start = int(rng.integers(0, max(1, len(out) - 100)))
        for name in ("open", "high", "low", "close"):
            out[name][start : start + 80] = float(out["close"][start])
    return out


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(2, 20),
    st.integers(3, 60),
    st.floats(0.0005, 0.03),
    st.booleans(),
)
def test_exact_sma_signals_equal_evaluating_every_bar(seed, fast, slow, volatility, ties):
    if fast >= slow:
        fast, slow = slow - 1 if slow > 2 else 2, max(slow, fast + 1)
    candles = synthetic_candles(1500, seed=seed, volatility=volatility)
    if ties:
        candles = _with_ties(candles, np.random.default_rng(seed))
    strategy = SmaCross({"fast": fast, "slow": slow})
    exact = compute_signals(strategy, candles, "X", "1m")
    full = compute_signals(strategy, candles, "X", "1m", fast=False)
    assert np.array_equal(exact.actions, full.actions)
    assert exact.plain
    for i in np.flatnonzero(full.actions != HOLD).tolist():
        assert exact.reason(i) == full.signals[i].reason
    # Read lazily, each signal is evaluate's own, indicator values included.
    assert dict(exact.signals) == full.signals
    assert exact.evaluated < full.evaluated


def test_exact_signals_skip_evaluate_on_clear_crossings():
    candles = synthetic_candles(100_000, seed=11)
    signals = compute_signals(SmaCross({"fast": 10, "slow": 30}), candles, "X", "1m")
    crossings = int(np.count_nonzero(signals.actions != HOLD))
    assert crossings > 3000
    # Only the warm-up (and any crossing inside the float margin) is evaluated.
    assert signals.evaluated < 100


def _both_loops(strategy, candles, s):
    ctx = full_context(candles, s.symbol, s.interval)
    sig = compute_signals(strategy, candles, s.symbol, s.interval, context=ctx)
    plain = _Run(candles, sig, s, ctx)
    assert plainloop.eligible(plain)
    plain.execute()
    general = _Run(candles, sig, s, ctx)
    general.execute_every_rule()
    return plain.result(), general.result()


def _assert_same(a, b):
    for name in a.__slots__:
        mine, theirs = getattr(a, name), getattr(b, name)
        if isinstance(mine, np.ndarray):
            assert np.array_equal(mine, theirs), name
        else:
            assert mine == theirs, name
    # Equal and printed the same: what is stored and exported.
    assert [str(t.pnl) for t in a.trades] == [str(t.pnl) for t in b.trades]
    assert str(a.final_cash) == str(b.final_cash)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from([(3, 8), (5, 20), (10, 30)]),
    st.sampled_from(["next_open", "intrabar"]),
    st.sampled_from([D(0), D("0.001"), D("0.0075")]),
    st.sampled_from([D(0), D("0.00"), D("0.0005")]),  # "0.00": a 1.00 that prints apart
    st.sampled_from([D(0), D("0.01")]),
    st.sampled_from([D(0), D("0.001"), D(1)]),
    st.sampled_from([D(0), D(5), D(400)]),
    st.sampled_from([D(100), D(1000), D(1_000_000)]),
)
def test_plain_loop_books_exactly_like_the_general_loop(
    seed, periods, mode, commission, slippage, tick, step, min_notional, cash
):
    candles = synthetic_candles(3000, seed=seed, volatility=0.004)
    s = BacktestSettings(
        symbol="T",
        interval="1m",
        initial_cash=cash,
        fill=FillModel(mode=mode, commission=commission, slippage=slippage, tick_size=tick),
        market=MarketRules(step_size=step, min_notional=min_notional),
    )
    fast, slow = periods
    plain, general = _both_loops(SmaCross({"fast": fast, "slow": slow}), candles, s)
    _assert_same(plain, general)
    assert plain.trades or plain.refused


def test_plain_loop_carries_dust_and_records_refusals_like_the_general_loop():
    candles = synthetic_candles(20_000, seed=4)
    s = BacktestSettings(
        symbol="T",
        interval="1m",
        initial_cash=D(300),
        fill=FillModel(commission=D("0.001"), slippage=D("0.0005"), tick_size=D("0.01")),
        market=MarketRules(step_size=D("0.01"), min_notional=D(297)),
    )
    plain, general = _both_loops(SmaCross({"fast": 5, "slow": 20}), candles, s)
    _assert_same(plain, general)
    assert plain.refused
    assert any(t.dust for t in plain.trades)


def _round_prices(candles: np.ndarray) -> np.ndarray:
    """Whole-number prices: with no commission, cash over price is often exact, so a
    buy's quantity can have fewer digits than the step (the loop's quantize fallback)."""
    out = candles.copy()
    for name in ("open", "high", "low", "close"):
        out[name] = np.round(out[name])
    return out


@pytest.mark.parametrize(
    "step",
    # Powers of ten (the quantize shortcut) and steps that are not: Binance's printed
    # step with trailing zeros, a half, a step above one.
    [D(0), D("0.001"), D(1), D("0.00100000"), D("0.5"), D("1E+1")],
)
@pytest.mark.parametrize(
    ("commission", "cash"),
    # Exact quotients (no commission) and a cash whose quantity has more digits than
    # the context around the step (quantize cannot hold them; quantities past the
    # grid bound).
    [(D(0), D(1000)), (D(0), D(10_000)), (D("0.001"), D(1000)), (D(0), D("1E+30"))],
)
def test_plain_loop_floors_to_any_step_like_the_general_loop(step, commission, cash):
    candles = _round_prices(synthetic_candles(4000, seed=5, volatility=0.01))
    s = BacktestSettings(
        symbol="T",
        interval="1m",
        initial_cash=cash,
        fill=FillModel(commission=commission, tick_size=D(1)),
        market=MarketRules(step_size=step),
    )
    plain, general = _both_loops(SmaCross({"fast": 3, "slow": 8}), candles, s)
    _assert_same(plain, general)
    assert plain.trades


def test_grid_shortcuts_only_for_a_power_of_ten_step():
    context = Context(prec=28)
    floor, bound = plainloop._grid_shortcuts(D("1E-8"), context)
    assert bound == D("1E+20")
    assert repr(floor(D("0.123456789"), D("1E-8"))) == "Decimal('0.12345678')"
    assert plainloop._grid_shortcuts(D(1), context)[1] == D("1E+28")
    for step in (D("0.00100000"), D("0.5"), D("1E+1"), D(10)):
        assert plainloop._grid_shortcuts(step, context) == (None, D(0))
    assert plainloop._grid_shortcuts(D("1E-8"), Context(clamp=1)) == (None, D(0))


def test_the_plain_loop_leaves_the_callers_context_flags_as_the_general_loop_does():
    candles = _round_prices(synthetic_candles(2000, seed=5, volatility=0.01))
    s = BacktestSettings(
        symbol="T",
        initial_cash=D(1000),
        fill=FillModel(commission=D(0), tick_size=D(1)),
        market=MarketRules(step_size=D("0.001")),
    )
    flags = []
    for loop in ("execute", "execute_every_rule"):
        with localcontext() as context:
            context.clear_flags()
            sig = compute_signals(SmaCross({"fast": 3, "slow": 8}), candles, "T", "1m")
            getattr(_Run(candles, sig, s), loop)()
            flags.append({name for name, on in context.flags.items() if on})
    assert flags[0] == flags[1]


def test_a_risk_config_or_a_maximum_quantity_takes_the_general_loop():
    candles = synthetic_candles(500, seed=1)
    strategy = SmaCross({"fast": 5, "slow": 20})
    sig = compute_signals(strategy, candles, "T", "1m")
    capped = BacktestSettings(symbol="T", market=MarketRules(max_qty=D(5)))
    assert not plainloop.eligible(_Run(candles, sig, capped))
    from apps.risk.engine import RiskConfig

    risky = BacktestSettings(symbol="T", risk=RiskConfig())
    assert not plainloop.eligible(_Run(candles, sig, risky))


@pytest.mark.parametrize("processes", [1, 2])
def test_a_sweep_gives_each_configuration_its_separate_result(processes):
    candles = synthetic_candles(8000, seed=7)
    s = BacktestSettings(
        symbol="T",
        interval="1m",
        initial_cash=D(10_000),
        market=MarketRules(step_size=D("0.001"), min_notional=D(5)),
    )
    pairs = [(5, 20), (10, 30), (5, 30), (10, 20), (7, 45)]  # periods shared across pairs
    strategies = [SmaCross({"fast": f, "slow": sl}) for f, sl in pairs]
    swept = run_sweep(strategies, candles, s, processes=processes)
    assert len(swept) == len(pairs)
    for strategy, result in zip(strategies, swept, strict=True):
        alone = run_backtest(strategy, candles, s)
        _assert_same(result, alone)
        assert result.metrics == alone.metrics


# --- the plain loop's lazy trade list, curves and columns ----------------------------


def _plain_run(seed=3, n=6000, **market):
    candles = synthetic_candles(n, seed=seed, volatility=0.004)
    s = BacktestSettings(
        symbol="T",
        interval="1m",
        initial_cash=D(1000),
        fill=FillModel(commission=D("0.001"), slippage=D("0.0005"), tick_size=D("0.01")),
        market=MarketRules(**market),
    )
    return _both_loops(SmaCross({"fast": 5, "slow": 20}), candles, s)


def test_the_plain_trade_list_reads_like_the_general_loops_list():
    plain, general = _plain_run(step_size=D("0.001"))
    trades, records = plain.trades, general.trades
    assert isinstance(trades, TradeList)
    assert isinstance(records, list)
    assert len(trades) == len(records) > 20
    assert trades == records
    assert records == trades
    assert trades != records[:-1]
    assert trades[3] == records[3]
    assert trades[-2:] == records[-2:]
    assert list(trades) == records
    assert [t.exit_reason for t in trades] == [t.exit_reason for t in records]
    # Pickled (a sweep's worker sends results back) and read again: the same records.
    assert pickle.loads(pickle.dumps(trades)) == records  # noqa: S301 (our own bytes)


def test_a_pickled_trade_list_keeps_every_booked_field_exactly():
    plain, _ = _plain_run(step_size=D("0.01"), min_notional=D(5))
    dust_row = (7, 9, D("5.00"), D("1E+2"), D("-0"), D("0.1000000000000000000000000001"),
                D("3.14"), None, D(0), D(0), D("-0.5"), D("0.001"))  # fmt: skip
    trades = plain.trades
    trades.rows.append(dust_row)
    copy = pickle.loads(pickle.dumps(trades))  # noqa: S301 (our own bytes)
    assert len(copy) == len(trades)  # read before the rows are parsed
    assert repr(copy) == repr(trades)
    assert pickle.loads(pickle.dumps(copy)).records() == trades.records()  # noqa: S301
    # Equal as values is not enough: the representation ("5.00", "1E+2") is printed.
    assert [[repr(v) for v in row] for row in copy.rows] == [
        [repr(v) for v in row] for row in trades.rows
    ]
    assert copy == trades.records()
    assert (repr(copy.book), repr(copy.cash)) == (repr(trades.book), repr(trades.cash))
    assert (copy.reasons, copy.default_reason) == (trades.reasons, trades.default_reason)
    trades.rows.append((1, 2, 0.5, *dust_row[3:]))
    with pytest.raises(TypeError, match="not float"):
        pickle.dumps(trades)


def test_trade_columns_equal_the_records_columns():
    plain, general = _plain_run(step_size=D("0.01"), min_notional=D(5))
    mine, theirs = columns_of(plain.trades), columns_of(general.trades)
    assert mine.pnl == theirs.pnl
    assert mine.r_multiples == theirs.r_multiples == []
    for name in ("entry_bar", "exit_bar", "entry_ms", "exit_ms"):
        assert np.array_equal(getattr(mine, name), getattr(theirs, name)), name
    assert compute_metrics(plain, interval_ms=60_000) == compute_metrics(
        general, interval_ms=60_000
    )


def test_trade_columns_are_read_once_and_follow_new_rows():
    plain, _ = _plain_run(step_size=D("0.01"), min_notional=D(5))
    trades = plain.trades
    assert columns_of(trades) is columns_of(trades)  # the result and the metrics share them
    trades.rows = trades.rows[:3]
    assert columns_of(trades).entry_bar.tolist() == [row[0] for row in trades.rows]
    assert len(columns_of(trades).pnl) == 3


def _curves_by_definition(run):
    """Equity and exposure as the loops define them, bar by bar."""
    n = run.n
    bars = np.asarray(run.event_bar, dtype=np.int64)
    cash = np.asarray([float(run.s.initial_cash), *run.event_cash])
    qty = np.asarray([0.0, *run.event_qty])
    k = np.searchsorted(bars, np.arange(n), side="right")
    exposure = np.zeros(n, dtype=bool)
    for trade in run.trades:
        exposure[trade.entry_bar : trade.exit_bar] = True
    if run.book is not None:
        exposure[run.entry_bar :] = True
    return cash[k] + qty[k] * run.c, exposure


@pytest.mark.parametrize("risk", [False, True])
def test_curves_equal_their_bar_by_bar_definition(risk):
    from apps.risk.engine import RiskConfig

    candles = synthetic_candles(20_000, seed=12, volatility=0.004)
    s = BacktestSettings(
        symbol="T",
        interval="1m",
        initial_cash=D(10_000),
        fill=FillModel(mode="intrabar" if risk else "next_open"),
        market=MarketRules(step_size=D("0.0001"), min_notional=D(5)),
        risk=RiskConfig(max_trades_per_day=None) if risk else None,
    )
    strategy = registry.create("trend_following", {}) if risk else SmaCross({"fast": 5, "slow": 20})
    sig = compute_signals(strategy, candles, s.symbol, s.interval)
    run = _Run(candles, sig, s)
    run.execute()
    result = run.result()
    equity, exposure = _curves_by_definition(run)
    assert len(result.trades) > 5
    assert np.array_equal(result.equity, equity)
    assert np.array_equal(result.exposure, exposure)


def test_signals_from_lazy_columns_equal_those_from_a_full_context():
    strategy = SmaCross({"fast": 4, "slow": 12})
    for candles in (
        synthetic_candles(3000, seed=5),
        _with_ties(synthetic_candles(3000, seed=5), np.random.default_rng(5)),
    ):
        context = MarketContext.from_array("X", "1m", candles)
        reference = compute_signals(strategy, candles, "X", "1m", context=context)
        lazy = full_context(candles, "X", "1m")
        from_lazy = compute_signals(strategy, candles, "X", "1m", context=lazy)
        if from_lazy.evaluated <= CandleColumns.WINDOWS_BEFORE_COPY:
            assert "open" not in vars(lazy)  # windows cut from the candle array
            assert "volume" not in vars(lazy)
        assert np.array_equal(from_lazy.actions, reference.actions)
        # Reading every signal evaluates the rest: many windows, then copied columns.
        assert dict(from_lazy.signals) == dict(reference.signals)
        # Every bar evaluated: the first windows from the candle array, then from the
        # copied columns.
        every_bar = compute_signals(
            strategy, candles, "X", "1m", fast=False, context=full_context(candles, "X", "1m")
        )
        assert every_bar.evaluated > CandleColumns.WINDOWS_BEFORE_COPY
        assert np.array_equal(every_bar.actions, reference.actions)
        assert every_bar.signals == dict(reference.signals)
