"""Backtests on candles stored in PostgreSQL: symbols, candles, an organization."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from apps.backtest.engine import synthetic_candles
from apps.marketdata.klines import parse_kline
from apps.marketdata.models import Symbol
from apps.marketdata.services import upsert_candles
from tests.trading.support import sync_default_symbols

HOUR = 3_600_000
START_MS = 1_704_067_200_000  # 2024-01-01


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def store_candles(
    name: str = "BTCUSDT", *, n: int = 2000, seed: int = 1, environment: str = "paper"
) -> np.ndarray:
    """Synthetic hourly candles stored as Candle rows; returns the array as stored."""
    if not Symbol.objects.filter(environment=environment, name=name).exists():
        sync_default_symbols(environment)
    candles = synthetic_candles(
        n, seed=seed, start_price=30_000.0, volatility=0.01, interval_ms=HOUR, start_ms=START_MS
    )
    rows = [
        parse_kline(
            [
                int(c["open_time"]),
                *(repr(float(c[f])) for f in ("open", "high", "low", "close")),
                repr(float(c["volume"])),
                int(c["close_time"]),
                "0",
                0,
                "0",
                "0",
                "0",
            ]
        )
        for c in candles
    ]
    symbol = Symbol.objects.get(environment=environment, name=name)
    upsert_candles(symbol=symbol, interval="1h", rows=rows)
    return candles


def period(n: int = 2000) -> tuple[datetime, datetime]:
    return at(START_MS), at(START_MS + n * HOUR)


D = Decimal
