"""Real market data for engine tests, read in place from ../shared/data."""

from __future__ import annotations

import csv
import gzip
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from apps.strategies.engine.candles import klines_to_array

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MARKET_DIR = DATA_DIR / "market"
SYMBOLS = (
    "ADABTC", "DASHBTC", "ETCBTC", "ETHBTC", "LTCBTC",
    "NXTBTC", "TRXBTC", "XLMBTC", "XMRBTC", "ZECBTC",
)  # fmt: skip


@cache
def load(symbol: str) -> np.ndarray:
    """5-minute candles (Bittrex prices of 2018, Binance layout) as a structured array."""
    path = MARKET_DIR / f"{symbol}-5m-2018-01.csv.gz"
    if not path.exists():
        pytest.skip(f"market data not found at {path}")
    with gzip.open(path, "rt") as handle:
        rows = klines_to_array(csv.reader(handle))
    rows.flags.writeable = False
    return rows


def assert_agree(actual, expected, scale: float, label: str = "") -> None:
    """The issue's tolerance: relative 1e-9 or absolute 1e-12 x the series' scale,
    whichever is looser, on every step; NaN exactly where the reference has NaN."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, label
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    mismatch = np.flatnonzero(nan_a != nan_e)
    assert mismatch.size == 0, f"{label}: NaN pattern differs first at index {mismatch[:5]}"
    ok = ~nan_e
    diff = np.abs(actual[ok] - expected[ok])
    tol = np.maximum(1e-9 * np.abs(expected[ok]), 1e-12 * scale)
    bad = np.flatnonzero(diff > tol)
    if bad.size:
        i = np.flatnonzero(ok)[bad[0]]
        raise AssertionError(
            f"{label}: {bad.size} steps disagree, first at {i}: {actual[i]!r} vs {expected[i]!r}"
        )
