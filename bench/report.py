"""How a benchmark reports its ratios, so that `make bench` can compare them with the
stored baseline (bench/baseline.json).

Each benchmark prints its figures for people and calls ``ratio`` for every figure that
is a ratio against a reference measured in the same run. ``ratio`` prints one
``RATIO <name> <value> <direction>`` line and, when ``BENCH_RESULTS`` names a file,
appends the same figure to it as one JSON line.

    from report import ratio            # bench/ is on sys.path when a script runs
    ratio("backtest.single_vs_vectorbt", ours / theirs)
"""

from __future__ import annotations

import json
import os

HIGHER_IS_BETTER = "higher"
LOWER_IS_BETTER = "lower"


def ratio(name: str, value: float, *, better: str = HIGHER_IS_BETTER) -> None:
    """Report one ratio; ``better`` says which direction is an improvement."""
    if better not in (HIGHER_IS_BETTER, LOWER_IS_BETTER):
        raise ValueError(f"better must be {HIGHER_IS_BETTER!r} or {LOWER_IS_BETTER!r}")
    print(f"RATIO {name} {value:.4f} {better}", flush=True)
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as results:
            results.write(json.dumps({"name": name, "value": value, "better": better}) + "\n")
