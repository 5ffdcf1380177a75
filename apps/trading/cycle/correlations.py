"""What the risk engine's correlation cap reads live: the correlation of the proposed
symbol's returns with each other symbol the account holds, over a trailing window of
candles of the trigger's interval that ends at the trigger candle (no look-ahead),
aligned by open time. The same window as a portfolio backtest, so a backtest and the
live cycle cap the same entries."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from apps.strategies.engine.indicators.batch import correlation_matrix

from .signal import load_klines

# Returns per correlation (apps/backtest/engine/portfolio.py uses the same window).
WINDOW = 100
# Fewer common returns than this say nothing; the cap then does not act.
MIN_RETURNS = 3


def closes_by_open_time(rows: list[list]) -> dict[int, float]:
    return {int(row[0]): float(row[4]) for row in rows}


def returns_correlation(mine: dict[int, float], theirs: dict[int, float]) -> float | None:
    """Pure: the correlation of log returns over the open times both series have (the
    newest WINDOW + 1 closes); None when undefined (too short, or a flat series)."""
    common = sorted(mine.keys() & theirs.keys())[-(WINDOW + 1) :]
    if len(common) <= MIN_RETURNS:
        return None
    a = np.array([mine[t] for t in common])
    b = np.array([theirs[t] for t in common])
    value = correlation_matrix({"a": a, "b": b}, period=len(common) - 1)[("a", "b")]
    return None if math.isnan(value) else value


def held_correlations(
    *, environment: str, symbol: str, interval: str, open_time_ms: int, held: Iterable[str]
) -> dict[str, float]:
    """{held symbol: correlation with `symbol`} for every other held symbol with enough
    common history."""
    others = sorted(set(held) - {symbol})
    if not others:
        return {}

    def closes(name: str) -> dict[int, float]:
        rows, _ = load_klines(
            environment=environment,
            symbol=name,
            interval=interval,
            open_time_ms=open_time_ms,
            count=WINDOW + 1,
        )
        return closes_by_open_time(rows)

    mine = closes(symbol)
    found = {}
    for other in others:
        value = returns_correlation(mine, closes(other))
        if value is not None:
            found[other] = value
    return found
