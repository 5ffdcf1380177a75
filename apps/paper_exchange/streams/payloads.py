"""Market stream payloads in Binance's shapes (field letters as web-socket-streams.md)."""

from __future__ import annotations

from apps.paper_exchange.marketdata.bars import Bar, TapePoint
from apps.paper_exchange.numbers import fmt


def trade(symbol: str, point: TapePoint, now: int) -> dict:
    return {
        "e": "trade",
        "E": now,
        "s": symbol,
        "t": point.trade_id,
        "p": fmt(point.price),
        "q": fmt(point.qty),
        "T": point.time,
        "m": point.buyer_is_maker,
        "M": True,
    }


def agg_trade(symbol: str, point: TapePoint, now: int) -> dict:
    return {
        "e": "aggTrade",
        "E": now,
        "s": symbol,
        "a": point.trade_id,
        "p": fmt(point.price),
        "q": fmt(point.qty),
        "f": point.first,
        "l": point.last,
        "T": point.time,
        "m": point.buyer_is_maker,
        "M": True,
    }


def kline(
    symbol: str,
    interval: str,
    bar: Bar,
    close_time: int,
    first_id: int,
    last_id: int,
    closed: bool,
    now: int,
) -> dict:
    return {
        "e": "kline",
        "E": now,
        "s": symbol,
        "k": {
            "t": bar.open_time,
            "T": close_time - 1,
            "s": symbol,
            "i": interval,
            "f": first_id,
            "L": last_id,
            "o": fmt(bar.open),
            "c": fmt(bar.close),
            "h": fmt(bar.high),
            "l": fmt(bar.low),
            "v": fmt(bar.volume),
            "n": bar.trades,
            "x": closed,
            "q": fmt(bar.quote_volume),
            "V": fmt(bar.taker_base),
            "Q": fmt(bar.taker_quote),
            "B": "0",
        },
    }


def book_ticker(symbol: str, update_id: int, bid: tuple, ask: tuple) -> dict:
    return {"u": update_id, "s": symbol, "b": bid[0], "B": bid[1], "a": ask[0], "A": ask[1]}


def depth_update(symbol: str, first: int, last: int, bids: list, asks: list, now: int) -> dict:
    return {"e": "depthUpdate", "E": now, "s": symbol, "U": first, "u": last, "b": bids, "a": asks}


def partial_depth(update_id: int, bids: list, asks: list) -> dict:
    return {"lastUpdateId": update_id, "bids": bids, "asks": asks}


def in_microseconds(payload: dict) -> dict:
    """The payload with its times in microseconds (``timeUnit=MICROSECOND``); trade ids
    (``t``, ``a``, ``f``, ``l``) stay as they are."""
    converted = dict(payload)
    for key in ("E", "T"):
        if isinstance(converted.get(key), int):
            converted[key] *= 1000
    if "k" in converted:
        kline = dict(converted["k"])
        kline["t"] *= 1000
        kline["T"] = kline["T"] * 1000 + 999  # the last microsecond of the kline
        converted["k"] = kline
    return converted


def server_shutdown(now: int) -> dict:
    return {"e": "serverShutdown", "E": now}
