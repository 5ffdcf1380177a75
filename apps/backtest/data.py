"""Candles and symbol filters for a backtest, from the database.

Candles come from `apps.marketdata.Candle` (written by the streams, by `import_klines`
from Binance dumps, and by the REST backfill). When a backtest asks for it and has an
account, missing candles are first fetched through that account's gateway.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np

from apps.backtest.engine import MarketRules
from apps.marketdata.intervals import INTERVAL_MS
from apps.marketdata.models import Candle, Symbol
from apps.marketdata.times import datetime_to_ms
from apps.strategies.engine.candles import CANDLE_DTYPE

_FIELDS = ("open_time", "open", "high", "low", "close", "volume", "close_time")


def candles_array(*, symbol: Symbol, interval: str, start: datetime, end: datetime) -> np.ndarray:
    """Closed candles whose open time is in [start, end), oldest first, as CANDLE_DTYPE."""
    rows = (
        Candle.objects.filter(
            symbol=symbol, interval=interval, open_time__gte=start, open_time__lt=end
        )
        .order_by("open_time")
        .values_list(*_FIELDS)
    )
    out = np.empty(len(rows), dtype=CANDLE_DTYPE)
    for i, (ot, o, h, lo, c, v, ct) in enumerate(rows):
        out[i] = (datetime_to_ms(ot), o, h, lo, c, v, datetime_to_ms(ct))
    return out


def expected_bars(*, interval: str, start: datetime, end: datetime) -> int:
    step = INTERVAL_MS[interval]
    first = -(-datetime_to_ms(start) // step) * step
    return max(0, -(-(datetime_to_ms(end) - first) // step))


def coverage(*, symbol: Symbol, interval: str, start: datetime, end: datetime) -> tuple[int, int]:
    """(stored, expected) candles of the period."""
    stored = Candle.objects.filter(
        symbol=symbol, interval=interval, open_time__gte=start, open_time__lt=end
    ).count()
    return stored, expected_bars(interval=interval, start=start, end=end)


def backfill(account, *, symbol: str, interval: str, start: datetime, end: datetime) -> int:
    """Fetch the period's closed candles through the account's gateway (idempotent)."""
    from apps.exchange.for_account import gateway_for_account
    from apps.marketdata.backfill import backfill_klines

    gateway = gateway_for_account(account)
    # `end_ms` is "now" to backfill_klines: the kline opening at `end - interval` is
    # included once it closed on the exchange's market clock, never one still open.
    return backfill_klines(
        gateway,
        environment=account.environment,
        symbol=symbol,
        interval=interval,
        start_ms=datetime_to_ms(start),
        end_ms=min(datetime_to_ms(end), _open_kline_ms(gateway, symbol, interval)),
    )


def _open_kline_ms(gateway, symbol: str, interval: str) -> int:
    """Open time of the exchange's current (unfinished) kline: its market clock, which
    on a paper exchange may differ from its server time."""
    page = gateway.klines(symbol, interval, limit=1)
    return int(page[-1][0]) if page else 0


def _filter(symbol: Symbol, kind: str, key: str) -> Decimal:
    for entry in symbol.filters or []:
        if entry.get("filterType") == kind and entry.get(key) not in (None, ""):
            return Decimal(str(entry[key]))
    return Decimal(0)


def market_rules(symbol: Symbol) -> MarketRules:
    """The symbol's filters as the engine applies them to market orders."""
    return MarketRules(
        base_asset=symbol.base_asset,
        quote_asset=symbol.quote_asset,
        step_size=symbol.step_size,
        min_qty=symbol.min_qty,
        max_qty=_filter(symbol, "MARKET_LOT_SIZE", "maxQty")
        or _filter(symbol, "LOT_SIZE", "maxQty"),
        tick_size=symbol.tick_size,
        min_notional=symbol.min_notional,
    )
