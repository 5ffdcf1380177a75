"""Stream names (``btcusdt@kline_1m``, ``ethusdt@depth5@100ms``) and what they ask for."""

from __future__ import annotations

from dataclasses import dataclass

from apps.paper_exchange.marketdata.bars import INTERVALS

PARTIAL_LEVELS = ("5", "10", "20")


@dataclass(frozen=True)
class StreamName:
    name: str  # as the client spelled it (the combined payload echoes it)
    symbol: str  # upper case
    kind: str  # trade, aggTrade, kline, bookTicker, depth, partialDepth
    interval: str = ""  # klines
    levels: int = 0  # partial depth
    cadence_ms: int = 0  # depth streams: 1000 or 100


def parse_stream(name: str, symbols) -> StreamName | None:
    """The stream ``name`` refers to, or None when it is not one this server knows."""
    symbol_part, _, rest = name.partition("@")
    symbol = symbol_part.upper()
    if not rest or symbol_part != symbol_part.lower() or symbol not in symbols:
        return None
    if rest in ("trade", "aggTrade", "bookTicker"):
        return StreamName(name, symbol, rest)
    if rest.startswith("kline_"):
        interval = rest[len("kline_") :]
        return (
            StreamName(name, symbol, "kline", interval=interval) if interval in INTERVALS else None
        )
    kind, _, speed = rest.partition("@")
    if speed not in ("", "100ms", "1000ms"):
        return None
    cadence = 100 if speed == "100ms" else 1000
    if kind == "depth":
        return StreamName(name, symbol, "depth", cadence_ms=cadence)
    if kind.startswith("depth") and kind[len("depth") :] in PARTIAL_LEVELS:
        levels = int(kind[len("depth") :])
        return StreamName(name, symbol, "partialDepth", levels=levels, cadence_ms=cadence)
    return None
