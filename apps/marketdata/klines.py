"""Binance's 12-column kline rows -> validated candle fields (Decimal, aware UTC)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.core.decimals import to_decimal
from apps.core.errors import ValidationError

from .times import exchange_ms, ms_to_datetime

COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
    "ignore",
)
_PRICES = ("open", "high", "low", "close")
_AMOUNTS = ("volume", "quote_volume", "taker_buy_base_volume", "taker_buy_quote_volume")


@dataclass(frozen=True, slots=True)
class KlineRow:
    open_time: datetime
    close_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    taker_buy_base_volume: Decimal
    taker_buy_quote_volume: Decimal

    def fields(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


def is_header(row: Sequence) -> bool:
    """Newer dumps start with a header line ("open_time,open,...")."""
    return bool(row) and not str(row[0]).strip().lstrip("-").isdigit()


def parse_kline(row: Sequence) -> KlineRow:
    """Validate one row; errors name the column and the rule."""
    if len(row) < 11:
        raise ValidationError("kline", f"must have 12 columns, got {len(row)}")
    values = dict(zip(COLUMNS, row, strict=False))
    open_ms = exchange_ms(values["open_time"], field="open_time")
    close_ms = exchange_ms(values["close_time"], field="close_time")
    if close_ms < open_ms:
        raise ValidationError("close_time", "must not be before open_time")
    numbers = {name: to_decimal(str(values[name]), field=name) for name in _PRICES + _AMOUNTS}
    for name in _PRICES:
        if numbers[name] < 0:
            raise ValidationError(name, "must not be negative")
    if numbers["low"] > numbers["high"]:
        raise ValidationError("low", "must not be above high")
    for name in _AMOUNTS:
        if numbers[name] < 0:
            raise ValidationError(name, "must not be negative")
    try:
        trades = int(values["trades"])
    except (TypeError, ValueError):
        raise ValidationError("trades", "must be an integer") from None
    return KlineRow(
        open_time=ms_to_datetime(open_ms),
        close_time=ms_to_datetime(close_ms),
        trades=trades,
        **numbers,
    )
