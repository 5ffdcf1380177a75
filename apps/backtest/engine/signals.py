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

Exact signals: when a strategy's decision is a sign test on whole-series indicators
(the SMA crossover), a bar whose values sit farther from the decision than the float
margin has the same action as ``evaluate`` would give, so it needs no call at all;
only bars inside the margin are evaluated. Such bars carry the strategy's fixed reason
for the action and their full ``Signal`` is evaluated lazily, the first time something
reads it. ``tests/backtest`` checks actions, reasons and signals against evaluating
every bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import talib

from apps.strategies.engine.base import Strategy, run_strategy
from apps.strategies.engine.context import MarketContext
from apps.strategies.engine.signals import Action, Signal

from .columns import CandleColumns
from .reference import SmaCross

HOLD, ENTER, EXIT, ERROR = 0, 1, 2, 3
_CODES = {Action.HOLD: HOLD, Action.ENTER_LONG: ENTER, Action.EXIT: EXIT, Action.ERROR: ERROR}
# Relative float noise allowed between a whole-series and a windowed moving average.
_FLOAT_MARGIN = 1e-9


@dataclass(frozen=True, slots=True)
class SignalSeries:
    """``actions[i]`` is the code of the signal at the close of bar ``i``; ``signals``
    holds the full Signal of every bar that is not HOLD (built on first read for bars
    decided by an exact filter). ``evaluated`` counts the calls of the strategy's
    ``evaluate`` made up front; ``reasons`` maps an action code to the reason of every
    signal with that code that was not evaluated (exact filters only), and ``plain``
    says that no signal carries a stop, a target or the accumulate flag."""

    actions: np.ndarray
    signals: Mapping[int, Signal]
    evaluated: int
    reasons: dict[int, str] = field(default_factory=dict)
    plain: bool = False

    def actionable(self) -> np.ndarray:
        return np.flatnonzero((self.actions == ENTER) | (self.actions == EXIT))

    def reason(self, i: int) -> str:
        """The reason of bar ``i``'s signal, without evaluating when it is known."""
        signals = self.signals
        if isinstance(signals, LazySignals) and i not in signals.evaluated:
            return self.reasons[int(self.actions[i])]
        return signals[i].reason


class LazySignals(Mapping):
    """Every non-HOLD bar of ``actions``: those in ``evaluated`` as evaluated up front,
    the others (decided by an exact filter) evaluated once, when first read."""

    def __init__(self, strategy: Strategy, ctx: CandleColumns, evaluated: dict, actions):
        self.strategy = strategy
        self.ctx = ctx
        self.evaluated = evaluated
        self._actions = actions

    def __getitem__(self, i: int) -> Signal:
        signal = self.evaluated.get(i)
        if signal is None:
            if not (0 <= i < self._actions.size and self._actions[i] != HOLD):
                raise KeyError(i)
            signal = self.evaluated[i] = _evaluate_at(self.strategy, self.ctx, i)
        return signal

    def __iter__(self) -> Iterator[int]:
        return iter(np.flatnonzero(self._actions != HOLD).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(self._actions != HOLD))


def full_context(candles: np.ndarray, symbol: str, interval: str) -> CandleColumns:
    """The candles' columns, each copied when first read (``columns.py``)."""
    return CandleColumns(candles, symbol, interval)


def compute_signals(
    strategy: Strategy,
    candles: np.ndarray,
    symbol: str,
    interval: str,
    *,
    fast: bool = True,
    context: CandleColumns | MarketContext | None = None,
    indicators: IndicatorCache | None = None,
) -> SignalSeries:
    """``indicators`` shares whole-series indicator arrays between runs over the same
    candles (a sweep); without it each call computes its own."""
    ctx = CandleColumns.of(context, candles, symbol, interval)
    n = len(ctx)
    if fast:
        exact = exact_signals(strategy, ctx, indicators)
        if exact is not None:
            return _from_exact(strategy, ctx, exact)
    bars = np.arange(n)
    if fast:
        mask = candidate_bars(strategy, ctx)
        if mask is not None:
            bars = np.flatnonzero(mask)
    actions = np.zeros(n, dtype=np.int8)
    signals = _evaluate_bars(strategy, ctx, bars, actions)
    return SignalSeries(actions, signals, len(bars))


def _window(strategy: Strategy, ctx: CandleColumns, i: int) -> MarketContext:
    return ctx.window(max(0, i + 1 - strategy.history), i + 1)


def _evaluate_at(strategy: Strategy, ctx: CandleColumns, i: int) -> Signal:
    return run_strategy(strategy, _window(strategy, ctx, i))


def _evaluate_bars(
    strategy: Strategy, ctx: CandleColumns, bars: np.ndarray, actions: np.ndarray
) -> dict[int, Signal]:
    """Evaluate ``bars``, write their codes into ``actions``; the non-HOLD signals."""
    signals: dict[int, Signal] = {}
    warm_up = _warm_up_bars(strategy)
    for i in bars.tolist():
        if i < warm_up:
            continue  # run_strategy's "warming up" HOLD, known without a window
        signal = _evaluate_at(strategy, ctx, i)
        code = _CODES[signal.action]
        actions[i] = code
        if code != HOLD:
            signals[i] = signal
    return signals


def _warm_up_bars(strategy: Strategy) -> int:
    """Bars before the first with ``history`` candles (``_window`` reads it the same way)."""
    return max(strategy.history - 1, 0)


def _from_exact(strategy: Strategy, ctx: CandleColumns, exact: ExactSignals) -> SignalSeries:
    actions = exact.actions.copy()
    unsure = np.flatnonzero(exact.unsure)
    evaluated = _evaluate_bars(strategy, ctx, unsure, actions)
    plain = all(
        s.stop is None and s.target is None and not s.accumulate for s in evaluated.values()
    )
    return SignalSeries(
        actions,
        LazySignals(strategy, ctx, evaluated, actions),
        len(unsure),
        reasons=dict(exact.reasons),
        plain=plain,
    )


# --- shared indicators -----------------------------------------------------------------


class IndicatorCache:
    """Whole-series indicator arrays by (name, period), computed once per series: the
    configurations of a sweep share them. Bound to one candle series."""

    def __init__(self, ctx: CandleColumns):
        self.ctx = ctx
        self._arrays: dict[tuple[str, int], np.ndarray] = {}

    def sma(self, period: int) -> np.ndarray:
        key = ("sma", period)
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = talib.SMA(self.ctx.close, period)
        return array


# --- exact signals ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExactSignals:
    """Actions decided from whole-series indicators; ``unsure`` bars must be evaluated.
    Decided signals carry ``reasons[code]`` and no stop, target or accumulate flag."""

    actions: np.ndarray
    unsure: np.ndarray
    reasons: dict[int, str]


ExactFilter = Callable[[Strategy, CandleColumns, IndicatorCache], ExactSignals]
_EXACT: dict[str, ExactFilter] = {}


def exact_filter(key: str) -> Callable[[ExactFilter], ExactFilter]:
    def register(func: ExactFilter) -> ExactFilter:
        _EXACT[key] = func
        return func

    return register


def exact_signals(
    strategy: Strategy, ctx: CandleColumns, indicators: IndicatorCache | None = None
) -> ExactSignals | None:
    # Only the class the filter was written for: a subclass may decide otherwise.
    func = _EXACT.get(strategy.key)
    if func is None or getattr(strategy, "candidate_bars", None) is not None:
        return None
    if getattr(func, "strategy_class", type(strategy)) is not type(strategy):
        return None
    if indicators is None or indicators.ctx is not ctx:
        indicators = IndicatorCache(ctx)
    return func(strategy, ctx, indicators)


# --- candidate filters -----------------------------------------------------------------

Filter = Callable[[Strategy, CandleColumns], np.ndarray]
_FILTERS: dict[str, Filter] = {}


def candidate_filter(key: str) -> Callable[[Filter], Filter]:
    def register(func: Filter) -> Filter:
        _FILTERS[key] = func
        return func

    return register


def candidate_bars(strategy: Strategy, ctx: CandleColumns) -> np.ndarray | None:
    """Bars whose signal may differ from HOLD, or None when unknown (evaluate all)."""
    own = getattr(strategy, "candidate_bars", None)
    if callable(own):  # the strategy's own code gets a real MarketContext
        return np.asarray(own(ctx.context if isinstance(ctx, CandleColumns) else ctx), dtype=bool)
    func = _FILTERS.get(strategy.key)
    return None if func is None else func(strategy, ctx)


def _crossings(diff: np.ndarray, tol_now: np.ndarray, tol_prev: np.ndarray) -> np.ndarray:
    """Bars ``i`` where ``diff`` may cross zero from ``i - 1``: up (prev <= 0 < now) or
    down (prev >= 0 > now), when the strategy's values in its window ending at ``i``
    may be off by ``tol_now[i]`` (at ``i``) and ``tol_prev[i]`` (at ``i - 1``)."""
    mask = np.zeros(diff.shape, dtype=bool)
    prev, now = diff[:-1], diff[1:]
    neg_now = -tol_now
    neg_prev = neg_now if tol_prev is tol_now else -tol_prev
    tol_prev, tol_now, neg_prev, neg_now = tol_prev[1:], tol_now[1:], neg_prev[1:], neg_now[1:]
    with np.errstate(invalid="ignore"):
        up = (prev <= tol_prev) & (now > neg_now)
        down = (prev >= neg_prev) & (now < tol_now)
    # NaN (warm-up) compares False above: keep those bars, run_strategy decides.
    mask[1:] = up | down | np.isnan(prev) | np.isnan(now)
    mask[0] = True
    return mask


@candidate_filter("sma_cross")
def _sma_cross(strategy: Strategy, ctx: CandleColumns) -> np.ndarray:
    p = strategy.params
    diff = talib.SMA(ctx.close, p["fast"]) - talib.SMA(ctx.close, p["slow"])
    margin = _price_margin(ctx.close)
    return _crossings(diff, margin, margin)


def _price_margin(close: np.ndarray) -> np.ndarray:
    """``|close| x _FLOAT_MARGIN``, in place (one new array, not two)."""
    margin = np.abs(close)
    margin *= _FLOAT_MARGIN
    return margin


@exact_filter("sma_cross")
def _sma_cross_exact(strategy: Strategy, ctx: CandleColumns, ind: IndicatorCache) -> ExactSignals:
    # A crossing is certain when the previous difference is at or below minus the
    # margin and the current one above it (or the mirror for a cross down): the
    # windowed values, within the margin of these, then cross too. Bars the candidate
    # filter rules out are certain HOLDs; everything else is evaluated. The filter's
    # formulas (``_crossings``) run only at the few bars where the difference may
    # cross: elsewhere both are False, so the result is the same.
    p = strategy.params
    diff = ind.sma(p["fast"]) - ind.sma(p["slow"])
    margin = _price_margin(ctx.close)
    bars = _maybe_crossing(diff, margin)
    prev, now, tol = diff[bars - 1], diff[bars], margin[bars]
    neg = -tol
    with np.errstate(invalid="ignore"):
        candidate = (
            ((prev <= tol) & (now > neg))
            | ((prev >= neg) & (now < tol))
            | np.isnan(prev)
            | np.isnan(now)
        )
        up = (prev <= neg) & (now > tol)
        down = (prev >= tol) & (now < neg)
    actions = np.zeros(diff.shape, dtype=np.int8)
    actions[bars[up]] = ENTER
    actions[bars[down]] = EXIT
    unsure = np.zeros(diff.shape, dtype=bool)
    unsure[:1] = True  # the first bar has no previous one: _crossings keeps it
    unsure[bars[candidate & ~up & ~down]] = True
    return ExactSignals(
        actions,
        unsure,
        {ENTER: SmaCross.ENTER_REASON, EXIT: SmaCross.EXIT_REASON},
    )


def _maybe_crossing(diff: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Bars ``i >= 1`` except those where ``diff`` is beyond ``margin[i]`` on the same
    side at ``i - 1`` and at ``i``: there no crossing or candidate formula holds (NaN
    compares False, so NaN bars stay in)."""
    neg = -margin
    with np.errstate(invalid="ignore"):
        above, below = diff > margin, diff < neg
        stays_above = np.greater(diff[:-1], margin[1:])
        stays_below = np.less(diff[:-1], neg[1:])
    stays_above &= above[1:]
    stays_below &= below[1:]
    stays_above |= stays_below
    moving = np.flatnonzero(~stays_above)
    moving += 1
    return moving


_sma_cross_exact.strategy_class = SmaCross


@candidate_filter("trend_following")
def _ema_cross(strategy: Strategy, ctx: CandleColumns) -> np.ndarray:
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
def _breakout(strategy: Strategy, ctx: CandleColumns) -> np.ndarray:
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
