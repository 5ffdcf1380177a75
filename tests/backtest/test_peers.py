"""Spotdesk against backtesting.py and vectorbt on the same SMA(10)/SMA(30) crossover,
and our indicators against TA-Lib. The peers are development dependencies: no skips."""

from decimal import Decimal as D
from functools import cache

import numpy as np
import pytest
import talib

from apps.backtest.engine import (
    BacktestSettings,
    FillModel,
    MarketRules,
    SmaCross,
    load_klines,
    run_backtest,
    synthetic_candles,
)
from apps.strategies.engine.indicators import ATR, EMA, SMA

from . import peers
from .support import ETHBTC, XRPETH

CASH = 1_000_000
TOLERANCE_PP = 0.1  # percentage points of total return


@cache
def series(name: str) -> np.ndarray:
    if name == "synthetic":
        return synthetic_candles(100_000, seed=11)
    return load_klines(ETHBTC if name == "ETHBTC" else XRPETH)


def spotdesk(candles, step):
    settings = BacktestSettings(
        symbol="X",
        initial_cash=D(CASH),
        fill=FillModel(commission=D("0.001")),
        market=MarketRules(step_size=step),
    )
    return run_backtest(SmaCross({"fast": 10, "slow": 30}), candles, settings)


@pytest.mark.parametrize("name", ["ETHBTC", "XRPETH", "synthetic"])
def test_same_trades_and_equity_as_backtesting_py(name):
    candles = series(name)
    ours = spotdesk(candles, D(1))  # backtesting.py buys whole units
    stats = peers.backtesting_py(candles, cash=CASH)
    theirs = stats["_trades"]
    assert len(ours.trades) == stats["# Trades"] > 10
    assert [t.entry_bar for t in ours.trades] == theirs["EntryBar"].tolist()
    assert [t.exit_bar for t in ours.trades] == theirs["ExitBar"].tolist()
    assert [float(t.quantity) for t in ours.trades] == theirs["Size"].tolist()
    np.testing.assert_allclose([float(t.pnl) for t in ours.trades], theirs["PnL"], rtol=1e-9)
    ours_pct = ours.metrics.total_return * 100
    assert abs(ours_pct - stats["Return [%]"]) < TOLERANCE_PP
    assert float(ours.final_equity) == pytest.approx(stats["Equity Final [$]"], rel=1e-9)


@pytest.mark.parametrize("name", ["ETHBTC", "XRPETH", "synthetic"])
def test_same_trades_and_return_as_vectorbt(name):
    candles = series(name)
    ours = spotdesk(candles, D(0))  # fractional: the base precision, 8 places
    pf = peers.vectorbt_portfolio(candles, cash=CASH)
    records = pf.trades.records_readable
    closed = records[records["Status"] == "Closed"]
    assert len(ours.trades) == len(closed) > 10
    entry_rows = np.searchsorted(pf.wrapper.index, closed["Entry Timestamp"])
    assert [t.entry_bar for t in ours.trades] == entry_rows.tolist()
    assert abs(ours.metrics.total_return - pf.total_return()) * 100 < TOLERANCE_PP
    # Flooring to 1e-8 units is the only difference: far below the tolerance.
    assert float(ours.final_equity) == pytest.approx(pf.final_value(), rel=1e-6)


@pytest.mark.parametrize("name", ["ETHBTC", "XRPETH", "synthetic"])
def test_the_metrics_equal_vectorbts_stats(name):
    """A run's metrics are what vectorbt's ``Portfolio.stats()`` reports, so timing a run
    against vectorbt with its stats (bench/backtest.py) compares like with like."""
    candles = series(name)
    ours = spotdesk(candles, D(0)).metrics
    freq = "5min" if name == "ETHBTC" else "1min"
    # The same year as ours: crypto trades every day of 365.25.
    portfolio = peers.vectorbt_portfolio(candles, cash=CASH, freq=freq)
    theirs = portfolio.stats(settings={"year_freq": "365.25 days"})
    assert ours.trades == theirs["Total Closed Trades"] > 50
    exact = {
        "Win Rate [%]": ours.win_rate * 100,
        "Profit Factor": ours.profit_factor,
        "Max Drawdown [%]": -ours.max_drawdown * 100,
        "Total Fees Paid": float(ours.fees),
        "Expectancy": float(ours.expectancy),
        "Sharpe Ratio": ours.sharpe,
        "Sortino Ratio": ours.sortino,
        "Calmar Ratio": ours.calmar,
    }
    for label, value in exact.items():
        assert value == pytest.approx(theirs[label], rel=1e-6), label
    assert ours.max_drawdown_ms == theirs["Max Drawdown Duration"].total_seconds() * 1000


def test_incremental_indicators_equal_ta_lib():
    candles = series("ETHBTC")
    high, low, close = (np.ascontiguousarray(candles[k]) for k in ("high", "low", "close"))
    for cls, expected in (
        (SMA, talib.SMA(close, 30)),
        (EMA, talib.EMA(close, 26)),
    ):
        ind = cls(30 if cls is SMA else 26)
        got = np.array([ind.push(float(x)) for x in close])
        np.testing.assert_allclose(got, expected, rtol=1e-9, equal_nan=True)
    atr = ATR(14)
    got = []
    for h, lo, c in zip(high, low, close, strict=True):
        got.append(atr.update(_Bar(h, lo, c)))
    np.testing.assert_allclose(got, talib.ATR(high, low, close, 14), rtol=1e-9, equal_nan=True)


class _Bar:
    __slots__ = ("close", "high", "low")

    def __init__(self, high, low, close):
        self.high, self.low, self.close = float(high), float(low), float(close)
