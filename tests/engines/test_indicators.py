"""Indicators: incremental == whole-series on every step, whole-series == TA-Lib or an
independent pandas reference, on real data and on random series."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.strategies.engine import ParameterError
from apps.strategies.engine.candles import Candle
from apps.strategies.engine.indicators import (
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
from apps.strategies.engine.indicators import batch as B

from .market_data import SYMBOLS, assert_agree, load

CLOSE_ONLY = [
    (SMA, B.sma, {"period": 20}),
    (EMA, B.ema, {"period": 20}),
    (WMA, B.wma, {"period": 20}),
    (RSI, B.rsi, {"period": 14}),
    (StdDev, B.rolling_std, {"period": 20}),
    (ZScore, B.zscore, {"period": 20}),
]
SCALE_FREE = {RSI, ZScore}  # outputs that do not scale with the price


def incremental_matches_batch(high, low, close) -> None:
    """Every incremental form against its whole-series form, on every step."""
    scale = float(np.nanmax(np.abs(close)))
    for cls, fn, kw in CLOSE_ONLY:
        ind = cls(**kw)
        values = [ind.push(x) for x in close]
        assert_agree(values, fn(close, **kw), 1.0 if cls in SCALE_FREE else scale, cls.__name__)
    macd = MACD(12, 26, 9)
    got = np.array([macd.push(x) for x in close])
    for j, ref in enumerate(B.macd(close, 12, 26, 9)):
        assert_agree(got[:, j], ref, scale, f"MACD[{j}]")
    bands = Bollinger(20, 2.0)
    got = np.array([bands.push(x) for x in close])
    for j, ref in enumerate(B.bollinger(close, 20, 2.0)):
        assert_agree(got[:, j], ref, scale, f"Bollinger[{j}]")
    atr = ATR(14)
    assert_agree([atr.push(*v) for v in zip(high, low, close, strict=True)],
                 B.atr(high, low, close, 14), scale, "ATR")  # fmt: skip
    adx = ADX(14)
    assert_agree([adx.push(*v) for v in zip(high, low, close, strict=True)],
                 B.adx(high, low, close, 14), 100.0, "ADX")  # fmt: skip
    channel = Donchian(20)
    got = np.array([channel.push(h, lo) for h, lo in zip(high, low, strict=True)])
    for j, ref in enumerate(B.donchian(high, low, 20)):
        assert_agree(got[:, j], ref, scale, f"Donchian[{j}]")


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_incremental_equals_whole_series_on_market_data(symbol):
    rows = load(symbol)
    incremental_matches_batch(rows["high"], rows["low"], rows["close"])


@pytest.mark.parametrize(("a", "b"), [("ETHBTC", "LTCBTC"), ("TRXBTC", "XLMBTC")])
def test_incremental_correlation_equals_whole_series(a, b):
    n = min(len(load(a)), len(load(b)))
    ca, cb = load(a)["close"][:n], load(b)["close"][:n]
    corr = ReturnCorrelation(30)
    got = [corr.push(x, y) for x, y in zip(ca, cb, strict=True)]
    assert_agree(got, B.return_correlation(ca, cb, 30), 1.0, "correlation")


def random_ohlc(seed: int, n: int, level: float, vol: float, flat_every: int):
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, vol, n)
    if flat_every:
        steps[::flat_every] = 0.0  # repeated closes, like thin pairs with a coarse tick
    close = level * np.exp(np.cumsum(steps))
    spread = np.abs(rng.normal(0.0, vol, (2, n))) * close
    return close + spread[0], close - spread[1], close


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    level=st.sampled_from([1e-8, 3e-6, 0.07, 1.0, 250.0, 60_000.0]),
    vol=st.sampled_from([1e-4, 0.003, 0.02, 0.1]),
    flat_every=st.sampled_from([0, 2, 5]),
)
def test_incremental_equals_whole_series_on_random_series(seed, n, level, vol, flat_every):
    high, low, close = random_ohlc(seed, n, level, vol, flat_every)
    incremental_matches_batch(high, low, close)
    other = random_ohlc(seed + 1, n, level, vol, flat_every)[2]
    corr = ReturnCorrelation(10)
    got = [corr.push(x, y) for x, y in zip(close, other, strict=True)]
    assert_agree(got, B.return_correlation(close, other, 10), 1.0, "correlation")


@pytest.mark.parametrize("symbol", ["ETHBTC", "TRXBTC"])
def test_whole_series_equals_talib_directly(symbol):
    rows = load(symbol)
    h, lo, c = rows["high"], rows["low"], rows["close"]
    scale = float(c.max())
    assert_agree(B.sma(c, 20), talib.SMA(c, 20), scale, "SMA")
    assert_agree(B.ema(c, 20), talib.EMA(c, 20), scale, "EMA")
    assert_agree(B.wma(c, 20), talib.WMA(c, 20), scale, "WMA")
    assert_agree(B.rsi(c, 14), talib.RSI(c, 14), 1.0, "RSI")
    assert_agree(B.atr(h, lo, c, 14), talib.ATR(h, lo, c, 14), scale, "ATR")
    assert_agree(B.adx(h, lo, c, 14), talib.ADX(h, lo, c, 14), 100.0, "ADX")
    assert_agree(B.rolling_std(c, 20), talib.STDDEV(c, 20, 1.0), scale, "STDDEV")
    for ours, ref in zip(B.bollinger(c, 20, 2.0), talib.BBANDS(c, 20, 2.0, 2.0, 0), strict=True):
        assert_agree(ours, ref, scale, "BBANDS")
    for ours, ref in zip(B.macd(c), talib.MACD(c, 12, 26, 9), strict=True):
        assert_agree(ours, ref, scale, "MACD")


@pytest.mark.parametrize("symbol", ["ETHBTC", "NXTBTC"])
def test_numpy_indicators_match_pandas(symbol):
    rows = load(symbol)
    c, h, lo = rows["close"], rows["high"], rows["low"]
    scale = float(c.max())
    s = pd.Series(c)
    mean = s.rolling(20).mean()
    std = s.rolling(20).std(ddof=0)
    expected = ((s - mean) / std).to_numpy()
    ours = B.zscore(c, 20)
    live = std.to_numpy() > 1e-9 * scale  # pandas' own rounding dominates near-flat windows
    np.testing.assert_allclose(ours[live], expected[live], rtol=1e-6, atol=1e-6)
    upper, _middle, lower = B.donchian(h, lo, 20)
    assert_agree(upper, pd.Series(h).rolling(20).max(), scale, "Donchian upper")
    assert_agree(lower, pd.Series(lo).rolling(20).min(), scale, "Donchian lower")
    other = load("LTCBTC")["close"][: len(c)]
    n = min(len(c), len(other))
    ref = pd.Series(c[:n]).pct_change().rolling(30).corr(pd.Series(other[:n]).pct_change())
    ours = B.return_correlation(c[:n], other[:n], 30)
    both = ~np.isnan(ours) & ~np.isnan(ref.to_numpy())
    assert both.sum() > n // 2
    np.testing.assert_allclose(ours[both], ref.to_numpy()[both], atol=1e-7)


@pytest.mark.parametrize(
    ("make", "lookback"),
    [
        (lambda: SMA(10), 9),
        (lambda: EMA(10), 9),
        (lambda: WMA(10), 9),
        (lambda: RSI(14), 14),
        (lambda: StdDev(10), 9),
        (lambda: ZScore(10), 9),
    ],
)
def test_warm_up_is_nan_then_a_number(make, lookback):
    ind = make()
    values = [ind.update(Candle(i, 1, 2, 0.5, 1.0 + 0.01 * (i % 7), 10, i + 1)) for i in range(40)]
    assert all(math.isnan(v) for v in values[:lookback])
    assert all(math.isfinite(v) for v in values[lookback:])


def test_multi_output_warm_up_lengths():
    macd, atr, adx = MACD(12, 26, 9), ATR(14), ADX(14)
    first = {}
    for i in range(60):
        candle = Candle(i, 1.0, 1.1 + 0.01 * (i % 5), 0.9, 1.0 + 0.02 * (i % 3), 5.0, i + 1)
        for name, ind in (("macd", macd), ("atr", atr), ("adx", adx)):
            out = ind.update(candle)
            value = out[0] if isinstance(out, tuple) else out
            if name not in first and not math.isnan(value):
                first[name] = i
    assert first == {"macd": 33, "atr": 14, "adx": 27}  # TA-Lib's lookbacks


def test_flat_prices_give_zero_spread_not_garbage():
    std, z, corr = StdDev(5), ZScore(5), ReturnCorrelation(5)
    for _ in range(30):
        s, zv, cv = std.push(0.00000512), z.push(0.00000512), corr.push(1.0, 2.0)
    assert s == 0.0
    assert zv == 0.0
    assert math.isnan(cv)  # correlation of constant returns is undefined


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: SMA(1), "period"),
        (lambda: EMA(2.5), "period"),
        (lambda: MACD(26, 12), "fast"),
        (lambda: Bollinger(20, -1), "deviations"),
        (lambda: B.return_correlation(np.ones(5), np.ones(6), 2), "close_b"),
    ],
)
def test_bad_parameters_name_the_field(build, field):
    with pytest.raises(ParameterError) as info:
        build()
    assert info.value.field == field


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 5000),
    level=st.floats(1e-9, 1e6),
    vol=st.floats(1e-5, 0.2),
    flat_every=st.sampled_from([0, 2, 3, 7]),
)
def test_incremental_equals_whole_series_long_random_series(seed, n, level, vol, flat_every):
    high, low, close = random_ohlc(seed, n, level, vol, flat_every)
    incremental_matches_batch(high, low, close)
