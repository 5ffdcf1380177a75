"""Performance measures of a backtest, from its equity curve and trade list (numpy).

Ratios are annualised with the bar interval (365.25 days a year: crypto trades every
day) and a risk-free rate of 0. Money totals stay Decimal; ratios are floats.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal

import numpy as np

from .tradelist import columns_of

_YEAR_MS = 365.25 * 86_400_000


@dataclass(frozen=True, slots=True)
class Metrics:
    total_return: float
    cagr: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float  # a negative fraction
    max_drawdown_bars: int  # longest stretch below a previous peak
    max_drawdown_ms: int
    exposure: float  # share of bars holding a position
    trades: int
    win_rate: float
    profit_factor: float
    expectancy: Decimal  # mean PnL per trade, quote
    expectancy_r: float  # mean R multiple (trades with a stop only)
    average_trade_bars: float
    average_trade_ms: float
    fees: Decimal
    sqn: float

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def drawdown_curve(equity: np.ndarray) -> np.ndarray:
    peak = np.maximum.accumulate(equity)
    return equity / peak - 1.0


def longest_drawdown(equity: np.ndarray, peak: np.ndarray | None = None) -> int:
    """Bars of the longest stretch spent below an earlier peak (to recovery or the end);
    ``peak``: ``np.maximum.accumulate(equity)`` when the caller has it."""
    if equity.size == 0:
        return 0
    below = equity < (np.maximum.accumulate(equity) if peak is None else peak)
    # Stretches of bars below and not below alternate between the bars where ``below``
    # changes: one comparison pass and a short list of changes, not a pass per edge.
    changes = np.flatnonzero(below[1:] != below[:-1])
    changes += 1
    lengths = np.diff(changes, prepend=0, append=below.size)
    below_stretches = lengths[0 if below[0] else 1 :: 2]
    return int(below_stretches.max()) if below_stretches.size else 0


def _ratio(numerator: float, denominator: float) -> float:
    if denominator == 0 or not math.isfinite(denominator):
        return math.inf if numerator > 0 else (0.0 if numerator == 0 else -math.inf)
    return numerator / denominator


def compute_metrics(result, *, interval_ms: int) -> Metrics:
    equity = np.asarray(result.equity, dtype=np.float64)
    initial = float(result.initial_cash)
    total_return = float(result.final_equity / result.initial_cash - 1)
    years = equity.size * interval_ms / _YEAR_MS
    growth = 1.0 + total_return
    cagr = -1.0
    if years > 0 and growth > 0:
        # A few hours annualised can exceed a float: report infinity, not an error.
        log_cagr = math.log(growth) / years
        cagr = math.expm1(log_cagr) if log_cagr < 700 else math.inf
    # In place where possible: a fresh 100,000-float array costs more than the maths.
    # per_bar[i] = (equity[i] - equity[i - 1]) / equity[i - 1], the initial cash first.
    per_bar = np.empty(equity.size)
    if equity.size:
        np.subtract(equity[1:], equity[:-1], out=per_bar[1:])
        np.divide(per_bar[1:], equity[:-1], out=per_bar[1:])
        per_bar[0] = (equity[0] - initial) / initial
    bars_per_year = _YEAR_MS / interval_ms
    sharpe = sortino = 0.0
    if per_bar.size > 1:
        mean = float(per_bar.mean())
        sharpe = _ratio(mean, float(per_bar.std(ddof=1))) * math.sqrt(bars_per_year)
        losses_only = np.minimum(per_bar, 0.0, out=per_bar)  # per_bar is not read again
        losses_only *= losses_only
        downside = float(np.sqrt(np.mean(losses_only)))
        sortino = _ratio(mean, downside) * math.sqrt(bars_per_year)
    peak = np.maximum.accumulate(equity)
    # min(x - 1) is min(x) - 1 (subtracting 1 keeps the order of floats).
    max_dd = float(np.divide(equity, peak, out=per_bar).min()) - 1.0 if equity.size else 0.0
    dd_bars = longest_drawdown(equity, peak)
    calmar = _ratio(cagr, abs(max_dd))

    trades = columns_of(result.trades)
    count = len(trades.pnl)
    pnl = np.array(trades.pnl, dtype=np.float64)  # float() of each Decimal
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    r_values = np.array(trades.r_multiples, dtype=np.float64)
    durations = (trades.exit_bar - trades.entry_bar).astype(np.float64)
    durations_ms = (trades.exit_ms - trades.entry_ms).astype(np.float64)
    expectancy = sum(trades.pnl, Decimal(0)) / count if count else Decimal(0)
    sqn = 0.0
    if count > 1 and pnl.std(ddof=1) > 0:
        sqn = math.sqrt(count) * float(pnl.mean()) / float(pnl.std(ddof=1))
    return Metrics(
        total_return=total_return,
        cagr=cagr,
        sharpe=sharpe,
        sortino=sortino,
        calmar=calmar,
        max_drawdown=max_dd,
        max_drawdown_bars=dd_bars,
        max_drawdown_ms=dd_bars * interval_ms,
        # The share of True bars: what np.mean gives (an exact count over the size).
        exposure=np.count_nonzero(result.exposure) / result.exposure.size if equity.size else 0.0,
        trades=count,
        win_rate=wins.size / count if count else 0.0,
        profit_factor=_ratio(float(wins.sum()), float(-losses.sum())),
        expectancy=expectancy,
        expectancy_r=float(r_values.mean()) if r_values.size else 0.0,
        average_trade_bars=float(durations.mean()) if count else 0.0,
        average_trade_ms=float(durations_ms.mean()) if count else 0.0,
        fees=result.fees,
        sqn=sqn,
    )
