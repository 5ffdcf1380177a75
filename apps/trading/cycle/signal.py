"""The group's signal, computed once per (strategy, version, params, symbol, interval,
candle): candles from the Redis window when it holds enough, else from the database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from apps.core.redis import get_redis
from apps.marketdata.cache import MarketCache
from apps.marketdata.models import Candle, Symbol
from apps.marketdata.times import ms_to_datetime
from apps.strategies.engine import Action, MarketContext, Signal, run_strategy
from apps.strategies.engine.candles import klines_to_array

ATR_PERIOD = 14


@dataclass(frozen=True)
class GroupSignal:
    signal: Signal
    fingerprint: str
    close: Decimal | None  # the trigger candle's close (Decimal, as stored)
    high: Decimal | None
    close_time_ms: int
    atr: Decimal | None  # for strategies that give no stop, and for trailing by ATR
    source: str  # "cache" or "database"


def load_klines(
    *, environment: str, symbol: str, interval: str, open_time_ms: int, count: int
) -> tuple[list[list], str]:
    """The newest `count` closed klines ending at `open_time_ms` (Binance layout)."""
    cached = MarketCache(get_redis(), environment).window(symbol, interval)
    rows = [row for row in cached if int(row[0]) <= open_time_ms][-count:]
    if rows and int(rows[-1][0]) == open_time_ms and len(rows) >= count:
        return rows, "cache"
    candles = (
        Candle.objects.filter(
            symbol__environment=environment,
            symbol__name=symbol,
            interval=interval,
            open_time__lte=ms_to_datetime(open_time_ms),
        )
        .order_by("-open_time")
        .select_related(None)[:count]
    )
    return [c.as_kline() for c in reversed(list(candles))], "database"


def _atr(rows: np.ndarray) -> Decimal | None:
    if len(rows) <= ATR_PERIOD:
        return None
    import talib

    value = float(talib.ATR(rows["high"], rows["low"], rows["close"], ATR_PERIOD)[-1])
    return None if not np.isfinite(value) else Decimal(repr(value))


def compute(
    strategy,
    *,
    symbol: str,
    interval: str,
    klines: list[list],
    open_time_ms: int,
    interval_ms: int,
    source: str,
) -> GroupSignal:
    """Pure: the strategy on these klines. A missing trigger candle is an ERROR signal
    (never traded on), not an exception."""
    rows = klines_to_array(klines) if klines else klines_to_array([])
    ctx = MarketContext.from_array(symbol, interval, rows)
    if not klines or int(klines[-1][0]) != open_time_ms:
        signal = strategy.signal(ctx, Action.ERROR, f"candle {open_time_ms} is not stored yet")
        return GroupSignal(
            signal, strategy.fingerprint, None, None, open_time_ms + interval_ms, None, source
        )
    signal = run_strategy(strategy, ctx)
    last = klines[-1]
    return GroupSignal(
        signal=signal,
        fingerprint=strategy.fingerprint,
        close=Decimal(str(last[4])),
        high=Decimal(str(last[2])),
        close_time_ms=int(last[6]),
        atr=_atr(rows),
        source=source,
    )


def group_signal(
    strategy, *, environment: str, symbol: str, interval: str, open_time_ms: int, interval_ms: int
) -> GroupSignal:
    count = max(strategy.history, ATR_PERIOD + 1)
    klines, source = load_klines(
        environment=environment,
        symbol=symbol,
        interval=interval,
        open_time_ms=open_time_ms,
        count=count,
    )
    return compute(
        strategy,
        symbol=symbol,
        interval=interval,
        klines=klines,
        open_time_ms=open_time_ms,
        interval_ms=interval_ms,
        source=source,
    )


def symbol_row(environment: str, symbol: str) -> Symbol | None:
    return Symbol.objects.filter(environment=environment, name=symbol).first()
