"""Reading one exchangeInfo symbol entry: assets, status and the filter values that
dust and sizing need (the full filter list is kept as JSON)."""

from __future__ import annotations

from decimal import Decimal

from apps.core.decimals import to_decimal
from apps.core.errors import ValidationError

ZERO = Decimal(0)
# Symbols listed before a sync: base and quote guessed from the longest known quote.
KNOWN_QUOTES = (
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "BIDR", "BTC", "ETH", "BNB", "EUR", "TRY",
    "BRL", "GBP", "AUD", "DAI", "XRP", "JPY",
)  # fmt: skip


def _filter(filters: list[dict], kind: str) -> dict:
    return next((f for f in filters if f.get("filterType") == kind), {})


def _value(entry: dict, key: str) -> Decimal:
    raw = entry.get(key)
    return ZERO if raw in (None, "") else to_decimal(str(raw), field=key)


def symbol_fields(entry: dict) -> dict:
    """Model fields of a `Symbol` from one exchangeInfo `symbols[]` entry."""
    name = entry.get("symbol")
    if not name or not isinstance(name, str):
        raise ValidationError("symbol", "must be a symbol name")
    filters = entry.get("filters") or []
    notional = _filter(filters, "NOTIONAL") or _filter(filters, "MIN_NOTIONAL")
    lot = _filter(filters, "LOT_SIZE")
    return {
        "name": name.upper(),
        "base_asset": entry.get("baseAsset", ""),
        "quote_asset": entry.get("quoteAsset", ""),
        "status": entry.get("status", "UNKNOWN"),
        "filters": filters,
        "tick_size": _value(_filter(filters, "PRICE_FILTER"), "tickSize"),
        "step_size": _value(lot, "stepSize"),
        "min_qty": _value(lot, "minQty"),
        "min_notional": _value(notional, "minNotional"),
    }


def guess_assets(name: str) -> tuple[str, str]:
    """(base, quote) of a symbol name, for symbols imported before exchangeInfo."""
    for quote in sorted(KNOWN_QUOTES, key=len, reverse=True):
        if name.endswith(quote) and len(name) > len(quote):
            return name[: -len(quote)], quote
    raise ValidationError("symbol", f"cannot tell the quote asset of {name}; sync exchangeInfo")
