"""Pure backtest engine: replays candles through the strategy engine, the risk engine
and exit management unchanged, books fills with the trading core's pure accounting,
and measures the result. No Django, no I/O beyond reading candle files.
"""

from .data import load_klines, load_npy, save_npy, synthetic_candles
from .fills import FillModel
from .market import MarketRules
from .metrics import Metrics, compute_metrics
from .reference import SmaCross
from .results import BacktestResult, TradeRecord
from .runner import BacktestSettings, run_backtest
from .signals import SignalSeries, compute_signals

__all__ = [
    "BacktestResult",
    "BacktestSettings",
    "FillModel",
    "MarketRules",
    "Metrics",
    "SignalSeries",
    "SmaCross",
    "TradeRecord",
    "compute_metrics",
    "compute_signals",
    "load_klines",
    "load_npy",
    "run_backtest",
    "save_npy",
    "synthetic_candles",
]
