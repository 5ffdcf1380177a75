"""Crafted market data for cycle tests: a flat range, then a breakout candle on volume
that the `breakout` strategy answers with a deterministic buy."""

from __future__ import annotations

import time
from decimal import Decimal

from apps.accounts.actors import Actor
from apps.core.redis import get_redis
from apps.marketdata.cache import MarketCache
from apps.marketdata.klines import parse_kline
from apps.marketdata.models import Symbol
from apps.marketdata.services import upsert_candles
from apps.strategies.services import resume_strategy_config
from tests.trading.support import make_config

MINUTE_MS = 60_000
BREAKOUT = {"entry_period": 3, "exit_period": 2, "volume_period": 3, "reward_risk": 3.0}


def enabled_config(account, **options):
    options.setdefault("strategy", "breakout")
    options.setdefault("params", dict(BREAKOUT))
    options.setdefault("interval", "1m")
    config = make_config(account, **options)
    resume_strategy_config(actor=Actor.for_system(), config=config)
    config.refresh_from_db()
    return config


def last_closed_open_ms(now_ms: int | None = None) -> int:
    """Open time of the newest closed 1m candle (it closed less than a minute ago)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return (now_ms // MINUTE_MS) * MINUTE_MS - MINUTE_MS


def kline(open_ms: int, o: Decimal, h: Decimal, lo: Decimal, c: Decimal, volume: str) -> list:
    q = Decimal("0.01")
    return [
        open_ms,
        str(o.quantize(q)),
        str(h.quantize(q)),
        str(lo.quantize(q)),
        str(c.quantize(q)),
        volume,
        open_ms + MINUTE_MS - 1,
        "0",
        10,
        "0",
        "0",
        "0",
    ]


def breakout_klines(price: Decimal, last_open_ms: int, *, count: int = 20, breakout=True):
    rows = []
    for i in range(count - 1):
        open_ms = last_open_ms - (count - 1 - i) * MINUTE_MS
        rows.append(
            kline(open_ms, price, price * Decimal("1.001"), price * Decimal("0.999"), price, "10")
        )
    close = price * (Decimal("1.01") if breakout else Decimal("1"))
    rows.append(
        kline(
            last_open_ms,
            price,
            close * Decimal("1.001"),
            price * Decimal("0.999"),
            close,
            "100" if breakout else "10",
        )
    )
    return rows


def store_klines(
    environment: str, symbol: str, interval: str, rows: list[list], *, cache: bool = True
) -> None:
    """Candles as the streams process would leave them: database, then Redis window."""
    klines = [parse_kline(row) for row in rows]
    row = Symbol.objects.get(environment=environment, name=symbol)
    upsert_candles(symbol=row, interval=interval, rows=klines)
    if cache:
        MarketCache(get_redis(), environment).add_candles(symbol, interval, klines)


def market_price(gateway, symbol: str = "BTCUSDT") -> Decimal:
    """The last trade price: what a market entry fills at now. (Not the 5-minute
    average: on the session's shared exchange another test may just have moved the
    market, and a stop crafted under the average could sit above the last price.)"""
    answer = gateway.request("GET", "/api/v3/ticker/price", {"symbol": symbol})
    return Decimal(answer["price"])
