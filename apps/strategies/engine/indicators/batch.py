"""Whole-series indicators: TA-Lib where it has the indicator, numpy where it has not.

Every function takes float64 numpy arrays and returns arrays of the same length with
NaN over the warm-up. Results match the incremental forms in ``incremental`` to a
relative 1e-9 (see tests/engines). TA-Lib's global "unstable period" settings must be
left at their default of 0, which is what the incremental forms reproduce.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import talib

from ..errors import ParameterError
from ._common import check_period, check_positive, pow2_scale


def _as_float_array(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _first_finite(values: np.ndarray) -> float:
    if values.size and np.isfinite(values[0]):  # the usual case, without a mask copy
        return float(values[0])
    finite = values[np.isfinite(values)]
    return float(finite[0]) if finite.size else 1.0


def sma(close: np.ndarray, period: int = 20) -> np.ndarray:
    return talib.SMA(_as_float_array(close), timeperiod=check_period(period))


def ema(close: np.ndarray, period: int = 20) -> np.ndarray:
    """EMA seeded, as TA-Lib does, with the SMA of the first ``period`` values."""
    return talib.EMA(_as_float_array(close), timeperiod=check_period(period))


def wma(close: np.ndarray, period: int = 20) -> np.ndarray:
    return talib.WMA(_as_float_array(close), timeperiod=check_period(period))


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's RSI. Scaled by a power of two first so that TA-Lib's zero tests are
    relative to the price level (see ``pow2_scale``); the result is scale-free."""
    close = _as_float_array(close)
    scale = pow2_scale(_first_finite(close))
    return talib.RSI(close * scale, timeperiod=check_period(period))


class MACDResult(NamedTuple):
    line: np.ndarray
    signal: np.ndarray
    histogram: np.ndarray


def macd(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> MACDResult:
    check_period(fast, "fast")
    check_period(slow, "slow")
    check_period(signal, "signal", minimum=1)
    if fast >= slow:
        raise ParameterError("fast", "must be below slow")
    line, sig, hist = talib.MACD(
        _as_float_array(close), fastperiod=fast, slowperiod=slow, signalperiod=signal
    )
    return MACDResult(line, sig, hist)


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's ATR; the first value is the simple mean of the first ``period`` true
    ranges (the first candle has no true range)."""
    return talib.ATR(
        _as_float_array(high),
        _as_float_array(low),
        _as_float_array(close),
        timeperiod=check_period(period, minimum=1),
    )


class BandsResult(NamedTuple):
    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray


def bollinger(close: np.ndarray, period: int = 20, deviations: float = 2.0) -> BandsResult:
    """Bollinger Bands: SMA middle, +/- ``deviations`` population standard deviations
    (the deviation from ``rolling_std``, see there why not TA-Lib's)."""
    close = _as_float_array(close)
    period = check_period(period)
    deviations = check_positive(deviations, "deviations")
    middle = talib.SMA(close, timeperiod=period)
    width = rolling_std(close, period) * deviations
    return BandsResult(middle + width, middle, middle - width)


def donchian(high: np.ndarray, low: np.ndarray, period: int = 20) -> BandsResult:
    """Highest high, midpoint and lowest low of the last ``period`` candles, current
    one included (compare a close with the previous candle's channel for breakouts)."""
    check_period(period)
    upper = talib.MAX(_as_float_array(high), timeperiod=period)
    lower = talib.MIN(_as_float_array(low), timeperiod=period)
    return BandsResult(upper, (upper + lower) / 2.0, lower)


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    high = _as_float_array(high)
    scale = pow2_scale(_first_finite(high))
    return talib.ADX(
        high * scale,
        _as_float_array(low) * scale,
        _as_float_array(close) * scale,
        timeperiod=check_period(period),
    )


def rolling_std(close: np.ndarray, period: int = 20) -> np.ndarray:
    """Population standard deviation over ``period`` values, two-pass per window.

    Not TA-Lib's STDDEV on purpose: it keeps running sums of x and x^2 over the whole
    series, so after a price falls by orders of magnitude the residue of the old,
    larger squares swamps the new variance (measured: 1.3e-9 relative error after a
    65,000x fall, growing with the fall). Live and backtest values must agree, so the
    whole-series form is exact per window, like the incremental one. Flat windows give
    exactly 0."""
    close = _as_float_array(close)
    period = check_period(period)
    out = np.full_like(close, np.nan)
    if close.size < period:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(close, period)
    # Centre on TA-Lib's SMA: an error d in the centre adds only d^2 to the variance,
    # far below its last digit, and saves a numpy pass computing each window's mean.
    centred = windows - talib.SMA(close, timeperiod=period)[period - 1 :, None]
    std = np.sqrt(np.einsum("ij,ij->i", centred, centred) / period)
    std[_flat_windows(close, period)] = 0.0
    out[period - 1 :] = std
    return out


def zscore(close: np.ndarray, period: int = 20) -> np.ndarray:
    """(value - rolling mean) / rolling population std; 0 where the window is flat.

    TA-Lib has no z-score. Its variance (STDDEV squared) is used as is; the numerator
    is the mean of each window's differences from its newest value, which are exact
    for nearby prices, so a z-score near 0 keeps its digits instead of inheriting the
    rounding of a mean the size of the price."""
    close = _as_float_array(close)
    period = check_period(period)
    out = np.full_like(close, np.nan)
    if close.size < period:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(close, period)
    mean_dev = (windows - close[period - 1 :, None]).sum(axis=1) / period
    std = rolling_std(close, period)[period - 1 :]
    flat = _flat_windows(close, period)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = -mean_dev / std
    z[flat | (std == 0.0)] = 0.0
    out[period - 1 :] = z
    return out


def returns(close: np.ndarray) -> np.ndarray:
    """Simple returns; the first value is NaN (no previous close)."""
    close = _as_float_array(close)
    out = np.full_like(close, np.nan)
    out[1:] = close[1:] / close[:-1] - 1.0
    return out


def _flat_windows(values: np.ndarray, period: int) -> np.ndarray:
    """True where the window of ``period`` values ending there holds one value only
    (aligned with the first full window)."""
    highest = talib.MAX(values, timeperiod=period)[period - 1 :]
    lowest = talib.MIN(values, timeperiod=period)[period - 1 :]
    return highest == lowest


def _rolling_sum(values: np.ndarray, period: int) -> np.ndarray:
    """Sum of each full window, summed directly (no running total to drift)."""
    return np.convolve(values, np.ones(period), mode="valid")


def return_correlation(close_a: np.ndarray, close_b: np.ndarray, period: int = 30) -> np.ndarray:
    """Rolling Pearson correlation of the two series' simple returns over ``period``
    returns (so ``period + 1`` closes). NaN during warm-up and where either window of
    returns is constant (correlation is undefined there)."""
    period = check_period(period)
    close_a = _as_float_array(close_a)
    close_b = _as_float_array(close_b)
    if close_a.shape != close_b.shape:
        raise ParameterError("close_b", "must have the same length as close_a")
    out = np.full_like(close_a, np.nan)
    if close_a.size < period + 1:
        return out
    ra = returns(close_a)[1:]
    rb = returns(close_b)[1:]
    # Correlation ignores a constant shift; removing the overall mean keeps the
    # sums-of-products formula free of cancellation.
    ca, cb = ra - ra.mean(), rb - rb.mean()
    sa, sb = _rolling_sum(ca, period), _rolling_sum(cb, period)
    cov = _rolling_sum(ca * cb, period) - sa * sb / period
    var_a = _rolling_sum(ca * ca, period) - sa * sa / period
    var_b = _rolling_sum(cb * cb, period) - sb * sb / period
    undefined = _flat_windows(ra, period) | _flat_windows(rb, period)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.sqrt(var_a * var_b)
    corr = np.clip(corr, -1.0, 1.0)
    corr[undefined | (var_a <= 0.0) | (var_b <= 0.0)] = np.nan
    out[period:] = corr
    return out


def correlation_matrix(closes: dict[str, np.ndarray], period: int = 30) -> dict:
    """Correlation of the latest ``period`` returns for every pair of symbols.

    Returns ``{(a, b): corr}`` for a != b in both orders; the risk engine reads it."""
    period = check_period(period)
    names = sorted(closes)
    result: dict[tuple[str, str], float] = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            n = min(closes[a].size, closes[b].size, period + 1)
            series = return_correlation(closes[a][-n:], closes[b][-n:], period)
            value = float(series[-1]) if series.size else float("nan")
            result[(a, b)] = value
            result[(b, a)] = value
    return result
