"""Many configurations over one candle series: columns and indicators computed once.

Every configuration's result is the one ``run_backtest`` gives alone (the same loop;
the shared arrays are the ones each run would compute): ``tests/backtest`` checks it.
With ``processes > 1`` the configurations are split into contiguous chunks run in
forked worker processes, each with its own indicator cache; results come back in
the order of ``strategies``.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from apps.strategies.engine.base import Strategy

from .results import BacktestResult
from .runner import BacktestSettings, run_backtest
from .signals import IndicatorCache, compute_signals, full_context
from .tradelist import TradeList

# What forked workers read: set in the parent just before the pool starts, so that
# the candles are inherited by the fork rather than pickled to every worker.
_SHARED: dict = {}


def run_sweep(
    strategies: Sequence[Strategy],
    candles: np.ndarray,
    settings: BacktestSettings,
    *,
    processes: int = 1,
) -> list[BacktestResult]:
    strategies = list(strategies)
    if processes <= 1 or len(strategies) < 2 or "fork" not in _start_methods():
        return _run_all(strategies, candles, settings)
    processes = min(processes, len(strategies))
    bounds = np.linspace(0, len(strategies), processes + 1).astype(int).tolist()
    chunks = [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]
    _SHARED.update(strategies=strategies, candles=candles, settings=settings)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
            parts = list(pool.map(_run_chunk, chunks))
    finally:
        _SHARED.clear()
    open_time = np.ascontiguousarray(candles["open_time"])
    results = [result for part in parts for result in part]
    for result in results:
        # Not sent back: the same array for every result.
        result.open_time = open_time
        if isinstance(result.trades, TradeList):
            result.trades.open_time = open_time
    return results


def _start_methods() -> list[str]:
    return multiprocessing.get_all_start_methods()


def _run_all(
    strategies: list[Strategy], candles: np.ndarray, settings: BacktestSettings
) -> list[BacktestResult]:
    ctx = full_context(candles, settings.symbol, settings.interval)
    indicators = IndicatorCache(ctx)
    results = []
    for strategy in strategies:
        signals = compute_signals(
            strategy,
            candles,
            settings.symbol,
            settings.interval,
            context=ctx,
            indicators=indicators,
        )
        results.append(run_backtest(strategy, candles, settings, signals=signals, context=ctx))
    return results


def _run_chunk(bounds: tuple[int, int]) -> list[BacktestResult]:
    lo, hi = bounds
    results = _run_all(_SHARED["strategies"][lo:hi], _SHARED["candles"], _SHARED["settings"])
    for result in results:
        result.open_time = None  # the parent has it
        if isinstance(result.trades, TradeList):
            result.trades.open_time = None
    return results
