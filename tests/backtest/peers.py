"""The SMA crossover in the peers, with fill rules aligned to Spotdesk's ``next_open``
model: a signal at a candle's close fills at the next candle's open, commission is a
fraction of each fill's value, a new entry only when flat. Used by the validation
tests and bench/backtest.py.

Crossing rule (all three): up when fast[-2] <= slow[-2] and fast[-1] > slow[-1]; down
when fast[-2] >= slow[-2] and fast[-1] < slow[-1]. TA-Lib's SMA feeds all three.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import talib


def frame(candles: np.ndarray) -> pd.DataFrame:
    index = pd.to_datetime(candles["open_time"], unit="ms", utc=True).tz_localize(None)
    return pd.DataFrame(
        {
            "Open": candles["open"],
            "High": candles["high"],
            "Low": candles["low"],
            "Close": candles["close"],
            "Volume": candles["volume"],
        },
        index=index,
    )


def crossings(close: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    f, s = talib.SMA(close, fast), talib.SMA(close, slow)
    up = np.zeros(close.size, dtype=bool)
    down = np.zeros(close.size, dtype=bool)
    with np.errstate(invalid="ignore"):
        up[1:] = (f[:-1] <= s[:-1]) & (f[1:] > s[1:])
        down[1:] = (f[:-1] >= s[:-1]) & (f[1:] < s[1:])
    return up, down


# --- backtesting.py --------------------------------------------------------------------


def backtesting_py(candles: np.ndarray, *, fast=10, slow=30, cash=1e6, commission=0.001):
    """Whole units only (backtesting.py sizes that way); returns its stats Series."""
    from backtesting import Backtest, Strategy

    class SmaCross(Strategy):
        n1 = fast
        n2 = slow

        def init(self):
            close = np.asarray(self.data.Close, dtype=np.float64)
            self.f = self.I(talib.SMA, close, self.n1)
            self.s = self.I(talib.SMA, close, self.n2)

        def next(self):
            f, s = self.f, self.s
            if f[-2] <= s[-2] and f[-1] > s[-1]:
                if not self.position:
                    self.buy()
            elif f[-2] >= s[-2] and f[-1] < s[-1] and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(
            frame(candles), SmaCross, cash=cash, commission=commission, finalize_trades=False
        )
        return bt.run()


# --- vectorbt ---------------------------------------------------------------------------


def vectorbt_portfolio(
    candles: np.ndarray, *, fast=10, slow=30, cash=1e6, commission=0.001, freq="1min"
):
    """All cash, fractional quantities; signals shifted one bar and filled at the open."""
    import vectorbt as vbt

    up, down = crossings(np.ascontiguousarray(candles["close"]), fast, slow)
    df = frame(candles)
    entries = pd.Series(np.concatenate(([False], up[:-1])), index=df.index)
    exits = pd.Series(np.concatenate(([False], down[:-1])), index=df.index)
    return vbt.Portfolio.from_signals(
        df["Close"],
        entries,
        exits,
        price=df["Open"],
        fees=commission,
        init_cash=cash,
        freq=freq,
    )
