"""Pure strategy engine: indicators, the strategy interface, parameters, registry and
built-in strategies. Imports nothing but numpy, TA-Lib and the standard library."""

from . import builtin  # noqa: F401  (registers the built-in strategies)
from .base import Strategy, run_strategy
from .candles import Candle, CandleWindow, LazyCandleWindow
from .context import MarketContext
from .errors import EngineError, ParameterError, ParameterErrors
from .params import ParamSchema
from .registry import StrategyRegistry, register, registry
from .signals import Action, Signal

__all__ = [
    "Action",
    "Candle",
    "CandleWindow",
    "EngineError",
    "LazyCandleWindow",
    "MarketContext",
    "ParamSchema",
    "ParameterError",
    "ParameterErrors",
    "Signal",
    "Strategy",
    "StrategyRegistry",
    "register",
    "registry",
    "run_strategy",
]
