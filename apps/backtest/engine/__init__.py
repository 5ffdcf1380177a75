"""Pure backtest engine: replays candles through the strategy engine, the risk engine
and exit management unchanged, books fills with the trading core's pure accounting,
and measures the result. No Django, no I/O beyond reading candle files.
"""

from .bootstrap import BootstrapResult, paired_bootstrap, unpaired_bootstrap
from .data import load_klines, load_npy, save_npy, synthetic_candles
from .fills import FillModel
from .market import MarketRules
from .metrics import Metrics, compute_metrics
from .montecarlo import MonteCarloResult, monte_carlo, trade_returns
from .portfolio import run_portfolio
from .reference import SmaCross
from .results import BacktestResult, TradeRecord
from .runner import BacktestSettings, run_backtest
from .signals import SignalSeries, compute_signals
from .splits import Window, parameter_grid, walk_forward_windows
from .sweep import run_sweep

__all__ = [
    "BacktestResult",
    "BacktestSettings",
    "BootstrapResult",
    "FillModel",
    "MarketRules",
    "Metrics",
    "MonteCarloResult",
    "SignalSeries",
    "SmaCross",
    "TradeRecord",
    "Window",
    "compute_metrics",
    "compute_signals",
    "load_klines",
    "load_npy",
    "monte_carlo",
    "paired_bootstrap",
    "parameter_grid",
    "run_backtest",
    "run_portfolio",
    "run_sweep",
    "save_npy",
    "synthetic_candles",
    "trade_returns",
    "unpaired_bootstrap",
    "walk_forward_windows",
]
