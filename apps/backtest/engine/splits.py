"""How sweeps and walk-forward analyses split into runs (pure).

``parameter_grid`` expands {name: [values]} into every combination (sorted names, so
the order is stable). ``walk_forward_windows`` cuts a period into folds: each fold
optimises on a training window and is measured on the test window that follows it,
and test windows tile the period after the first training window without overlap.
Rolling (the training window slides) or anchored (it always starts at the beginning).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    fold: int
    train_start: int  # ms, inclusive
    train_end: int  # ms, exclusive
    test_start: int
    test_end: int


def parameter_grid(grid: dict[str, list], *, limit: int | None = None) -> list[dict]:
    """Every combination of the grid's values. Past ``limit`` combinations it refuses
    before building any: a few long lists would otherwise fill the memory first."""
    if not isinstance(grid, dict) or not grid:
        raise ValueError("grid must map at least one parameter to its values")
    names = sorted(grid)
    for name in names:
        values = grid[name]
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(f"grid.{name} must be a non-empty list of values")
    size = math.prod(len(grid[name]) for name in names)
    if limit is not None and size > limit:
        raise ValueError(f"must expand to at most {limit} combinations (this one: {size})")
    return [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*map(grid.get, names))
    ]


def walk_forward_windows(
    start_ms: int,
    end_ms: int,
    *,
    folds: int,
    train_ratio: float = 0.7,
    anchored: bool = False,
    align_ms: int = 1,
) -> list[Window]:
    """``folds`` folds over [start_ms, end_ms). With rolling windows, each training window
    is ``train_ratio / (1 - train_ratio)`` test windows long; boundaries fall on
    multiples of ``align_ms`` (the candle interval) from ``start_ms``."""
    if folds < 1:
        raise ValueError("folds must be at least 1")
    if not 0 < train_ratio < 1:
        raise ValueError("train_ratio must be between 0 and 1")
    if end_ms <= start_ms:
        raise ValueError("the period must end after it starts")
    bars = (end_ms - start_ms) // align_ms
    # total = train + folds * test, with train = test * ratio / (1 - ratio)
    train_per_test = train_ratio / (1 - train_ratio)
    test_bars = int(bars // (folds + train_per_test))
    train_bars = bars - folds * test_bars
    if test_bars < 1 or train_bars < 1:
        raise ValueError("the period is too short for that many folds")

    def at(bar: int) -> int:
        return start_ms + bar * align_ms

    windows = []
    for k in range(folds):
        test_start = train_bars + k * test_bars
        train_start = 0 if anchored else test_start - train_bars
        windows.append(
            Window(
                k + 1, at(train_start), at(test_start), at(test_start), at(test_start + test_bars)
            )
        )
    return windows
