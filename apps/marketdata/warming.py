"""Filling the Redis cache from the database for the streams strategies use."""

from __future__ import annotations

from collections.abc import Iterable

from apps.core.redis import get_redis

from . import conf
from .cache import MarketCache
from .models import Symbol
from .selectors import candle_window


def warm_window(*, symbol: Symbol, interval: str, redis_client=None) -> int:
    candles = candle_window(symbol=symbol, interval=interval, limit=conf.cache_window())
    cache = MarketCache(redis_client or get_redis(), symbol.environment)
    cache.add_candles(symbol.name, interval, [c.as_kline_row() for c in candles])
    return len(candles)


def active_streams(*, environment: str) -> set[tuple[str, str]]:
    """(symbol, interval) pairs traded by an enabled config of an active account."""
    from apps.strategies.models import StrategyConfig  # strategies sit above marketdata

    rows = StrategyConfig.objects.filter(
        enabled=True, account__environment=environment, account__status="active"
    ).values_list("symbols", "interval")
    return {(symbol, interval) for symbols, interval in rows for symbol in symbols}


def warm_active(
    *, environment: str, streams: Iterable[tuple[str, str]], redis_client=None
) -> list[tuple[str, str]]:
    """Warm those (symbol, interval) pairs an enabled strategy config trades."""
    active = active_streams(environment=environment)
    warmed = []
    for name, interval in sorted(set(streams) & active):
        symbol = Symbol.objects.get(environment=environment, name=name)
        warm_window(symbol=symbol, interval=interval, redis_client=redis_client)
        warmed.append((name, interval))
    return warmed
