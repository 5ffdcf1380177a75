"""Redis cache of each active symbol's latest price and recent closed candles.

Every cycle reads these instead of the database. Prices are decimal strings (never
floats); a window is a sorted set scored by open time, so rewriting a candle (a
backfill correcting the stream) replaces it instead of adding a second copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

from . import conf
from .klines import KlineRow
from .times import datetime_to_ms


def _price_key(environment: str, symbol: str) -> str:
    return f"md:{environment}:{symbol}:price"


def _window_key(environment: str, symbol: str, interval: str) -> str:
    return f"md:{environment}:{symbol}:{interval}:window"


def _as_kline(row: KlineRow) -> list:
    return [
        datetime_to_ms(row.open_time),
        str(row.open),
        str(row.high),
        str(row.low),
        str(row.close),
        str(row.volume),
        datetime_to_ms(row.close_time),
        str(row.quote_volume),
        row.trades,
        str(row.taker_buy_base_volume),
        str(row.taker_buy_quote_volume),
        "0",
    ]


class MarketCache:
    def __init__(self, redis_client, environment: str):
        self.redis = redis_client
        self.environment = environment

    # --- latest price ---

    def set_price(self, symbol: str, price: Decimal, time_ms: int) -> bool:
        """Store the price unless a newer one is already there; True if stored."""
        key = _price_key(self.environment, symbol)
        # Compare-and-set in Lua: two writers (stream and backfill) never move it back.
        stored = self.redis.eval(
            """
            local current = tonumber(redis.call('HGET', KEYS[1], 'time_ms') or '-1')
            if tonumber(ARGV[2]) < current then return 0 end
            redis.call('HSET', KEYS[1], 'price', ARGV[1], 'time_ms', ARGV[2])
            redis.call('EXPIRE', KEYS[1], ARGV[3])
            return 1
            """,
            1,
            key,
            str(price),
            int(time_ms),
            conf.cache_ttl_seconds(),
        )
        return bool(stored)

    def price(self, symbol: str) -> tuple[Decimal, int] | None:
        raw = self.redis.hgetall(_price_key(self.environment, symbol))
        if not raw:
            return None
        return Decimal(raw["price"]), int(raw["time_ms"])

    # --- candle window ---

    def add_candles(self, symbol: str, interval: str, rows: Iterable[KlineRow]) -> None:
        """Add closed candles (replacing any with the same open time), keep the newest
        `MARKETDATA_CACHE_WINDOW`, and advance the latest price to the newest close."""
        key = _window_key(self.environment, symbol, interval)
        rows = list(rows)
        if not rows:
            return
        pipe = self.redis.pipeline(transaction=True)
        for row in rows:
            score = datetime_to_ms(row.open_time)
            pipe.zremrangebyscore(key, score, score)
            pipe.zadd(key, {json.dumps(_as_kline(row)): score})
        pipe.zremrangebyrank(key, 0, -conf.cache_window() - 1)
        pipe.expire(key, conf.cache_ttl_seconds())
        pipe.execute()
        newest = max(rows, key=lambda r: r.open_time)
        self.set_price(symbol, newest.close, datetime_to_ms(newest.close_time))

    def window(self, symbol: str, interval: str, limit: int | None = None) -> list[list]:
        """The newest `limit` cached klines (Binance layout), oldest first."""
        key = _window_key(self.environment, symbol, interval)
        start = 0 if limit is None else -limit
        return [json.loads(member) for member in self.redis.zrange(key, start, -1)]

    def forget(self, symbol: str, interval: str | None = None) -> None:
        keys = [_price_key(self.environment, symbol)]
        if interval:
            keys.append(_window_key(self.environment, symbol, interval))
        self.redis.delete(*keys)
