"""Reads of market data (public: no organization scoping)."""

from __future__ import annotations

from .models import Candle, Symbol


def candle_window(*, symbol: Symbol, interval: str, limit: int) -> list[Candle]:
    """The newest `limit` candles, oldest first (one backward scan of the unique index)."""
    newest = Candle.objects.filter(symbol=symbol, interval=interval).order_by("-open_time")
    return list(reversed(newest[:limit]))


def latest_candle(*, symbol: Symbol, interval: str) -> Candle | None:
    return Candle.objects.filter(symbol=symbol, interval=interval).order_by("-open_time").first()


def candles_between(*, symbol: Symbol, interval: str, start, end) -> list[Candle]:
    """Candles opening in [start, end), oldest first."""
    return list(
        Candle.objects.filter(
            symbol=symbol, interval=interval, open_time__gte=start, open_time__lt=end
        ).order_by("open_time")
    )


def liquidity_summary(*, environment: str, symbol: str, redis_client=None):
    """The order-book summary the streams process published for `symbol`, or None when
    there is none or it is older than `MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS`."""
    from apps.core.redis import get_redis

    from .liquidity import LiquidityStore

    store = LiquidityStore(redis_client or get_redis(), environment)
    return store.read(symbol.upper())
