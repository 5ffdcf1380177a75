"""Candle arrays for backtests: Binance kline files, memory-mapped ``.npy`` caches and
synthetic series. Arrays use the strategy engine's ``CANDLE_DTYPE``."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np

from apps.strategies.engine.candles import CANDLE_DTYPE, klines_to_array


def load_klines(path: str | Path) -> np.ndarray:
    """A Binance 12-column kline CSV (plain or ``.gz``, no header) as a structured
    array, oldest first."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and row[0].strip().isdigit()]
    candles = klines_to_array(rows)
    order = np.argsort(candles["open_time"], kind="stable")
    return candles[order]


def save_npy(candles: np.ndarray, path: str | Path) -> Path:
    """Write a candle array once so that long histories can be memory-mapped later."""
    path = Path(path)
    np.save(path, np.asarray(candles, dtype=CANDLE_DTYPE), allow_pickle=False)
    return path


def load_npy(path: str | Path) -> np.ndarray:
    """A read-only memory map of a saved candle array: pages load on first touch, so a
    history of millions of candles costs no up-front read."""
    candles = np.load(path, mmap_mode="r", allow_pickle=False)
    if candles.dtype != CANDLE_DTYPE:
        raise ValueError(f"{path}: not a candle array (dtype {candles.dtype})")
    return candles


def synthetic_candles(
    n: int,
    *,
    seed: int = 0,
    start_price: float = 100.0,
    volatility: float = 0.002,
    interval_ms: int = 60_000,
    start_ms: int = 1_600_000_000_000,
) -> np.ndarray:
    """A geometric random walk with consistent OHLC (low <= open, close <= high), for
    tests and benchmarks that need more bars than the real files hold."""
    rng = np.random.default_rng(seed)
    log_returns = rng.normal(0.0, volatility, n)
    close = start_price * np.exp(np.cumsum(log_returns))
    open_ = np.empty(n)
    open_[0] = start_price
    open_[1:] = close[:-1]
    wick = np.abs(rng.normal(0.0, volatility / 2, (2, n)))
    candles = np.empty(n, dtype=CANDLE_DTYPE)
    candles["open_time"] = start_ms + np.arange(n, dtype=np.int64) * interval_ms
    candles["close_time"] = candles["open_time"] + interval_ms - 1
    candles["open"] = open_
    candles["close"] = close
    candles["high"] = np.maximum(open_, close) * (1.0 + wick[0])
    candles["low"] = np.minimum(open_, close) * (1.0 - wick[1])
    candles["volume"] = rng.uniform(10.0, 1000.0, n)
    return candles
