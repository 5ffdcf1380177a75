"""Technical indicators in two forms that agree on every candle.

``batch``: whole-series numpy functions (TA-Lib where it has the indicator).
The classes below: O(1) incremental forms for live trading, ``update(candle)`` or
``push(values)``, NaN during warm-up.
"""

from . import batch
from .correlation import ReturnCorrelation
from .moving_averages import EMA, SMA, WMA
from .oscillators import MACD, RSI
from .trend import ADX, Donchian
from .volatility import ATR, Bollinger, RollingMoments, StdDev, ZScore

__all__ = [
    "ADX",
    "ATR",
    "EMA",
    "MACD",
    "RSI",
    "SMA",
    "WMA",
    "Bollinger",
    "Donchian",
    "ReturnCorrelation",
    "RollingMoments",
    "StdDev",
    "ZScore",
    "batch",
]
