"""Strategy signals over a whole series, computed once before the event loop.

Signals depend only on market data, so they can be computed before any fill. Every
signal comes from the strategy's own ``evaluate`` through ``run_strategy``, on exactly
the ``history`` candles live trading would hand it: there is no second implementation
of any strategy here.

The fast path only decides *where* to call ``evaluate``: a candidate filter computes
the strategy's indicators over the whole series at once (TA-Lib, one call) and marks
the bars where its signal could be anything but HOLD, with a margin for the ways a
whole-series value can differ from the windowed one (float running sums, an EMA's
seed). Bars outside the mask are HOLD without asking. A strategy may provide its own
filter as ``candidate_bars(ctx) -> bool array``; the filters below cover the built-in
crossover and breakout strategies. ``tests/backtest`` checks that filtered and
unfiltered runs give identical signals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import talib

from apps.strategies.engine.base import Strategy, run_strategy
from apps.strategies.engine.context import MarketContext
from apps.strategies.engine.signals import Action, Signal

HOLD, ENTER, EXIT, ERROR = 0, 1, 2, 3
_CODES = {Action.HOLD: HOLD, Action.ENTER_LONG: ENTER, Action.EXIT: EXIT, Action.ERROR: ERROR}
# Relative float noise allowed between a whole-series and a windowed moving average.
_FLOAT_MARGIN = 1e-9


@dataclass(frozen=True, slots=True)
class SignalSeries:
    """``actions[i]`` is the code of the signal at the close of bar ``i``; ``signals``
    holds the full Signal of every bar that is not HOLD. ``evaluated`` counts the
    calls of the strategy's ``evaluate``."""

    actions: np.ndarray
    signals: dict[int, Signal]
    evaluated: int

    def actionable(self) -> np.ndarray:
        return np.flatnonzero((self.actions == ENTER) | (self.actions == EXIT))


def full_context(candles: np.ndarray, symbol: str, interval: str) -> MarketContext:
    return MarketContext.from_array(symbol, interval, candles)


def compute_signals(
    strategy: Strategy,
    candles: np.ndarray,
    symbol: str,
    interval: str,
    *,
    fast: bool = True,
    context: MarketContext | None = None,
) -> SignalSeries:
    ctx = context or full_context(candles, symbol, interval)
    n = len(ctx)
    bars = np.arange(n)
    if fast:
        mask = candidate_bars(strategy, ctx)
        if mask is not None:
            bars = np.flatnonzero(mask)
    actions = np.zeros(n, dtype=np.int8)
    signals: dict[int, Signal] = {}
    h = strategy.history
    columns = (ctx.open_time, ctx.open, ctx.high, ctx.low, ctx.close, ctx.volume)
    for i in bars.tolist():
        start = max(0, i + 1 - h)
        window = MarketContext(symbol, interval, *(c[start : i + 1] for c in columns))
        signal = run_strategy(strategy, window)
        code = _CODES[signal.action]
        if code != HOLD:
            actions[i] = code
            signals[i] = signal
    return SignalSeries(actions, signals, len(bars))


# --- candidate filters -----------------------------------------------------------------

Filter = Callable[[Strategy, MarketContext], np.ndarray]
_FILTERS: dict[str, Filter] = {}


def candidate_filter(key: str) -> Callable[[Filter], Filter]:
    def register(func: Filter) -> Filter:
        _FILTERS[key] = func
        return func

    return register


def candidate_bars(strategy: Strategy, ctx: MarketContext) -> np.ndarray | None:
    """Bars whose signal may differ from HOLD, or None when unknown (evaluate all)."""
    own = getattr(strategy, "candidate_bars", None)
    if callable(own):
        return np.asarray(own(ctx), dtype=bool)
    func = _FILTERS.get(strategy.key)
    return None if func is None else func(strategy, ctx)


def _crossings(diff: np.ndarray, tol_now: np.ndarray, tol_prev: np.ndarray) -> np.ndarray:
    """Bars ``i`` where ``diff`` may cross zero from ``i - 1``: up (prev <= 0 < now) or
    down (prev >= 0 > now), when the strategy's values in its window ending at ``i``
    may be off by ``tol_now[i]`` (at ``i``) and ``tol_prev[i]`` (at ``i - 1``)."""
    mask = np.zeros(diff.shape, dtype=bool)
    prev, now = diff[:-1], diff[1:]
    tol_prev, tol_now = tol_prev[1:], tol_now[1:]
    with np.errstate(invalid="ignore"):
        up = (prev <= tol_prev) & (now > -tol_now)
        down = (prev >= -tol_prev) & (now < tol_now)
    # NaN (warm-up) compares False above: keep those bars, run_strategy decides.
    mask[1:] = up | down | np.isnan(prev) | np.isnan(now)
    mask[0] = True
    return mask


@candidate_filter("sma_cross")
def _sma_cross(strategy: Strategy, ctx: MarketContext) -> np.ndarray:
    p = strategy.params
    diff = talib.SMA(ctx.close, p["fast"]) - talib.SMA(ctx.close, p["slow"])
    margin = np.abs(ctx.close) * _FLOAT_MARGIN
    return _crossings(diff, margin, margin)


@candidate_filter("trend_following")
def _ema_cross(strategy: Strategy, ctx: MarketContext) -> np.ndarray:
    # The strategy's EMA over its window starts from the SMA of the window's first
    # ``q`` candles; the whole-series EMA at that candle has another value. Both then
    # follow the same recursion, so their gap shrinks exactly by (1 - k) per candle:
    # the gap at the seed, decayed, is the margin (one candle less for the previous
    # bar, which the strategy reads from the same window).
    p = strategy.params
    close = ctx.close
    h = strategy.history
    diff = talib.EMA(close, p["fast"]) - talib.EMA(close, p["slow"])
    margin = np.abs(close) * _FLOAT_MARGIN
    tol_now, tol_prev = margin.copy(), margin.copy()
    tol_prev[1:] = margin[:-1]
    for q in (p["fast"], p["slow"]):
        ema, seed = talib.EMA(close, q), talib.SMA(close, q)
        lag = h - q  # candles from the window's seed to its last candle
        gap = np.full(close.shape, np.inf)  # unknown (warm-up): always a candidate
        if close.size > lag:
            gap[lag:] = np.abs(ema[:-lag] - seed[:-lag]) * (1.0 + 1e-6)
        gap[~np.isfinite(gap)] = np.inf
        decay = 1.0 - 2.0 / (q + 1)
        tol_now += gap * decay**lag
        tol_prev += gap * decay ** (lag - 1)
    return _crossings(diff, tol_now, tol_prev)


@candidate_filter("breakout")
def _breakout(strategy: Strategy, ctx: MarketContext) -> np.ndarray:
    # Channel extremes of a window are exact whatever the window's start.
    p = strategy.params
    n = len(ctx)
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    upper[1:] = talib.MAX(ctx.high, p["entry_period"])[:-1]
    lower[1:] = talib.MIN(ctx.low, p["exit_period"])[:-1]
    with np.errstate(invalid="ignore"):
        mask = (ctx.close > upper) | (ctx.close < lower)
    return mask | np.isnan(upper) | np.isnan(lower)
