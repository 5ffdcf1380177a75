"""Monte Carlo resampling of a trade sequence: how deep could the drawdown have been
had the same trades come in another order (``shuffle``) or been drawn again with
replacement (``bootstrap``)?

Each trade is a return on the equity it was opened with (``pnl / equity before``), so
paths compound like the account did. Pure numpy; seeded, hence reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("shuffle", "bootstrap")
DEFAULT_PERCENTILES = (5.0, 50.0, 95.0)


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    method: str
    simulations: int
    trades: int
    # percentile -> value; drawdowns are negative fractions, returns fractions
    max_drawdown: dict[float, float]
    total_return: dict[float, float]
    probability_of_loss: float  # share of paths ending below the start
    max_drawdown_samples: np.ndarray

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "simulations": self.simulations,
            "trades": self.trades,
            "max_drawdown": {f"p{p:g}": v for p, v in self.max_drawdown.items()},
            "total_return": {f"p{p:g}": v for p, v in self.total_return.items()},
            "probability_of_loss": self.probability_of_loss,
        }


def trade_returns(pnls, initial_equity: float) -> np.ndarray:
    """Per-trade returns on the equity before each trade, from realized PnLs in order."""
    pnl = np.asarray([float(p) for p in pnls], dtype=np.float64)
    before = float(initial_equity) + np.concatenate(([0.0], np.cumsum(pnl)[:-1]))
    return pnl / before


def path_max_drawdowns(returns: np.ndarray) -> np.ndarray:
    """Max drawdown (negative fraction, 0 for none) of every row of compounded returns,
    the starting equity counting as the first peak."""
    growth = np.cumprod(1.0 + returns, axis=1)
    ones = np.ones((growth.shape[0], 1))
    equity = np.concatenate((ones, growth), axis=1)
    peak = np.maximum.accumulate(equity, axis=1)
    return (equity / peak - 1.0).min(axis=1)


def monte_carlo(
    returns,
    *,
    simulations: int = 1000,
    method: str = "shuffle",
    seed: int = 0,
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES,
    batch: int = 2000,
) -> MonteCarloResult:
    """Resample ``returns`` (one per trade, in order) ``simulations`` times."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if simulations < 1:
        raise ValueError("simulations must be at least 1")
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or r.size == 0:
        raise ValueError("returns must be a non-empty sequence")
    rng = np.random.default_rng(seed)
    drawdowns, finals = [], []
    remaining = simulations
    while remaining:  # in batches: memory stays bounded for long trade lists
        size = min(batch, remaining)
        if method == "shuffle":
            paths = rng.permuted(np.broadcast_to(r, (size, r.size)), axis=1)
        else:
            paths = r[rng.integers(0, r.size, (size, r.size))]
        drawdowns.append(path_max_drawdowns(paths))
        finals.append(np.prod(1.0 + paths, axis=1) - 1.0)
        remaining -= size
    dd = np.concatenate(drawdowns)
    final = np.concatenate(finals)
    # The worst drawdowns are the low percentiles: p5 of drawdown is the bad tail.
    return MonteCarloResult(
        method=method,
        simulations=simulations,
        trades=int(r.size),
        max_drawdown={p: float(np.percentile(dd, p)) for p in percentiles},
        total_return={p: float(np.percentile(final, p)) for p in percentiles},
        probability_of_loss=float(np.mean(final < 0)),
        max_drawdown_samples=dd,
    )
