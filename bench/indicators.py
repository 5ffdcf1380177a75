"""Indicator throughput: incremental updates and whole-series computation.

Run: .venv/bin/python bench/indicators.py [--candles N] [--repeat R]

Prints, per indicator, the cost of one incremental update (goal: under 2 us), the
ratio against recomputing the whole-series form (TA-Lib, or numpy where we use it) over
a 500-candle window for every new candle (what a bot without incremental forms does),
and whole-series throughput of our batch functions against raw TA-Lib and pandas, all
measured in this process on the same data.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import talib  # noqa: E402
from report import ratio  # noqa: E402

from apps.strategies.engine.candles import Candle, klines_to_array  # noqa: E402
from apps.strategies.engine.indicators import (  # noqa: E402
    ADX,
    ATR,
    EMA,
    MACD,
    RSI,
    SMA,
    WMA,
    Bollinger,
    Donchian,
    ReturnCorrelation,
    StdDev,
    ZScore,
)
from apps.strategies.engine.indicators import batch as B  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "market"
WINDOW = 500


def slug(name: str) -> str:
    """'MACD(12,26,9)' -> 'macd_12_26_9': a ratio name without punctuation."""
    return "_".join(filter(None, re.split(r"[^a-z0-9]+", name.lower())))


def load_series(n: int) -> tuple[np.ndarray, ...]:
    """Real closes (ETHBTC, LTCBTC 5m), tiled to ``n`` candles."""
    frames = []
    for symbol in ("ETHBTC", "LTCBTC"):
        with gzip.open(DATA / f"{symbol}-5m-2018-01.csv.gz", "rt") as handle:
            frames.append(klines_to_array(csv.reader(handle)))
    a, b = frames
    m = min(len(a), len(b))
    reps = -(-n // m)
    a, b = np.tile(a[:m], reps)[:n], np.tile(b[:m], reps)[:n]
    return (
        a["high"].copy(),
        a["low"].copy(),
        a["close"].copy(),
        a["volume"].copy(),
        b["close"].copy(),
    )


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = args.candles, args.repeat
    high, low, close, volume, other = load_series(n)
    hl = list(zip(high.tolist(), low.tolist(), strict=True))
    hlc = list(zip(high.tolist(), low.tolist(), close.tolist(), strict=True))
    closes = close.tolist()
    pairs = list(zip(closes, other.tolist(), strict=True))

    def push1(make):
        def run():
            ind = make()
            push = ind.push
            for x in closes:
                push(x)

        return run

    def push_many(make, rows):
        def run():
            ind = make()
            push = ind.push
            for row in rows:
                push(*row)

        return run

    # (name, incremental run, whole-series call on a 500-candle window, as a bot without
    # incremental forms would run for every new candle: TA-Lib, or numpy where we use it)
    w = slice(0, WINDOW)
    cases = [
        ("SMA(20)", push1(lambda: SMA(20)), lambda: talib.SMA(close[w], 20)),
        ("EMA(20)", push1(lambda: EMA(20)), lambda: talib.EMA(close[w], 20)),
        ("WMA(20)", push1(lambda: WMA(20)), lambda: talib.WMA(close[w], 20)),
        ("RSI(14)", push1(lambda: RSI(14)), lambda: talib.RSI(close[w], 14)),
        ("MACD(12,26,9)", push1(MACD), lambda: talib.MACD(close[w])),
        ("ATR(14)", push_many(lambda: ATR(14), hlc), lambda: talib.ATR(high[w], low[w], close[w])),
        ("ADX(14)", push_many(lambda: ADX(14), hlc), lambda: talib.ADX(high[w], low[w], close[w])),
        ("Bollinger(20,2)", push1(lambda: Bollinger(20, 2.0)), lambda: talib.BBANDS(close[w], 20)),
        ("Donchian(20)", push_many(lambda: Donchian(20), hl),
         lambda: (talib.MAX(high[w], 20), talib.MIN(low[w], 20))),
        ("StdDev(20)", push1(lambda: StdDev(20)), lambda: talib.STDDEV(close[w], 20)),
        ("ZScore(20)", push1(lambda: ZScore(20)), lambda: B.zscore(close[w], 20)),
        ("ReturnCorr(30)", push_many(lambda: ReturnCorrelation(30), pairs),
         lambda: B.return_correlation(close[w], other[w], 30)),
    ]  # fmt: skip

    print(f"Incremental updates, {n:,} candles, best of {repeat} (ETHBTC/LTCBTC 5m, tiled)")
    print(f"{'indicator':<17}{'us/update':>10}{'updates/s':>13}{'goal <2us':>10}"
          f"{f'recompute {WINDOW}-window us':>28}{'speed-up':>10}")  # fmt: skip
    for name, inc, recompute in cases:
        per_update = best_of(repeat, inc) / n
        per_recompute = best_of(repeat, lambda r=recompute: [r() for _ in range(200)]) / 200
        print(
            f"{name:<17}{per_update * 1e6:>10.3f}{1 / per_update:>13,.0f}"
            f"{'yes' if per_update < 2e-6 else 'NO':>10}{per_recompute * 1e6:>28.2f}"
            f"{per_recompute / per_update:>9.1f}x"
        )
        ratio(
            f"indicators.incremental.{slug(name)}_vs_window_recompute", per_recompute / per_update
        )

    candle_rows = [Candle(i, c, h, lo, c, v, i) for i, (h, lo, c, v) in
                   enumerate(zip(high.tolist(), low.tolist(), closes, volume.tolist(),
                                 strict=True))]  # fmt: skip

    def via_update():
        ind = EMA(20)
        update = ind.update
        for candle in candle_rows:
            update(candle)

    t = best_of(repeat, via_update) / n
    print(f"{'EMA(20).update(candle)':<27}{t * 1e6:.3f} us/update (attribute read included)")

    s = pd.Series(close)
    o = pd.Series(other)
    batch_cases = [
        ("SMA(20)", lambda: B.sma(close, 20), lambda: talib.SMA(close, 20),
         lambda: s.rolling(20).mean()),
        ("EMA(20)", lambda: B.ema(close, 20), lambda: talib.EMA(close, 20),
         lambda: s.ewm(span=20, adjust=False).mean()),
        ("RSI(14)", lambda: B.rsi(close, 14), lambda: talib.RSI(close, 14),
         lambda: _pandas_rsi(s, 14)),
        ("ATR(14)", lambda: B.atr(high, low, close, 14), lambda: talib.ATR(high, low, close, 14),
         lambda: _pandas_atr(high, low, close, 14)),
        ("Bollinger(20,2)", lambda: B.bollinger(close, 20, 2.0), lambda: talib.BBANDS(close, 20),
         lambda: (s.rolling(20).mean(), s.rolling(20).std(ddof=0))),
        ("StdDev(20)", lambda: B.rolling_std(close, 20), lambda: talib.STDDEV(close, 20),
         lambda: s.rolling(20).std(ddof=0)),
        ("ZScore(20)", lambda: B.zscore(close, 20), None,
         lambda: (s - s.rolling(20).mean()) / s.rolling(20).std(ddof=0)),
        ("Donchian(20)", lambda: B.donchian(high, low, 20),
         lambda: (talib.MAX(high, 20), talib.MIN(low, 20)),
         lambda: (pd.Series(high).rolling(20).max(), pd.Series(low).rolling(20).min())),
        ("ReturnCorr(30)", lambda: B.return_correlation(close, other, 30),
         lambda: talib.CORREL(close[1:] / close[:-1], other[1:] / other[:-1], 30),
         lambda: s.pct_change().rolling(30).corr(o.pct_change())),
    ]  # fmt: skip
    print(f"\nWhole series, {n:,} candles: million candles/s (higher is better)")
    print(f"{'indicator':<17}{'ours':>9}{'TA-Lib':>9}{'pandas':>9}{'ours/TA-Lib':>13}"
          f"{'ours/pandas':>13}")  # fmt: skip
    for name, ours, raw, pandas_fn in batch_cases:
        t_ours = best_of(repeat, ours)
        t_raw = best_of(repeat, raw) if raw else float("nan")
        t_pd = best_of(repeat, pandas_fn)
        print(
            f"{name:<17}{n / t_ours / 1e6:>9.1f}{n / t_raw / 1e6:>9.1f}{n / t_pd / 1e6:>9.1f}"
            f"{t_raw / t_ours:>12.2f}x{t_pd / t_ours:>12.2f}x"
        )
        if raw:
            ratio(f"indicators.batch.{slug(name)}_vs_talib", t_raw / t_ours)
        ratio(f"indicators.batch.{slug(name)}_vs_pandas", t_pd / t_ours)
    print("ours/TA-Lib < 1 is our wrapper's overhead (validation, exact power-of-two scaling);")
    print("StdDev/Bollinger/ZScore pay for an exact per-window variance instead of TA-Lib's")
    print("whole-series running sums (see indicators.batch.rolling_std).")
    print("ours/pandas > 1 means faster than pandas. TA-Lib CORREL is on price ratios, for scale.")


def _pandas_rsi(s: pd.Series, period: int) -> pd.Series:
    delta = s.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / period, adjust=False).mean()
    return 100 * gain / (gain + loss)


def _pandas_atr(high, low, close, period: int) -> pd.Series:
    prev = pd.Series(close).shift()
    tr = pd.concat(
        [pd.Series(high - low), (pd.Series(high) - prev).abs(), (pd.Series(low) - prev).abs()],
        axis=1,
    ).max(axis=1)
    return tr.ewm(alpha=1 / period, adjust=False).mean()


if __name__ == "__main__":
    main()
