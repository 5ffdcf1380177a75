"""Market data endpoints: depth, trades, aggTrades, klines, uiKlines, avgPrice, tickers."""

from __future__ import annotations

from decimal import Decimal

from apps.paper_exchange import errors
from apps.paper_exchange.marketdata.bars import DAY, HOUR, INTERVALS, MINUTE
from apps.paper_exchange.marketdata.klines import klines
from apps.paper_exchange.marketdata.series import GENERATED_TRADE_ID_BASE
from apps.paper_exchange.numbers import ZERO, fmt
from apps.paper_exchange.server.auth import to_milliseconds
from apps.paper_exchange.server.endpoint import Context, Endpoint, route
from apps.paper_exchange.server.params import Params


def _time_param(params: Params, name: str) -> int | None:
    value = params.integer(name)
    return None if value is None else int(to_milliseconds(value))


def depth_weight(params: Params) -> int:
    limit = params.limit(100, 5000)
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def depth(context: Context) -> dict:
    spec = context.symbol()
    limit = context.params.limit(100, 5000)
    update_id, book = context.exchange.published_book(spec.symbol)
    return {
        "lastUpdateId": update_id,
        "bids": [[fmt(level.price), fmt(level.qty)] for level in book.bids(limit)],
        "asks": [[fmt(level.price), fmt(level.qty)] for level in book.asks(limit)],
    }


def recent_trades(context: Context) -> list:
    """``trades``, and ``historicalTrades`` (which also takes ``fromId``)."""
    spec = context.symbol()
    limit = context.params.limit(500, 1000)
    from_id = context.params.integer("fromId", minimum=0)
    exchange = context.exchange
    series = exchange.market.series[spec.symbol]
    now = exchange.market_time()
    if from_id is None:
        points = series.recent_points(now, limit)
    else:
        points = _points_from_id(series, from_id, now, limit)
    return [
        {
            "id": point.trade_id,
            "price": fmt(point.price),
            "qty": fmt(point.qty),
            "quoteQty": fmt(point.price * point.qty),
            "time": point.time,
            "isBuyerMaker": point.buyer_is_maker,
            "isBestMatch": True,
        }
        for point in points
    ]


def agg_trades(context: Context) -> list:
    spec = context.symbol()
    params = context.params
    limit = params.limit(500, 1000)
    from_id = params.integer("fromId", minimum=0)
    start = _time_param(params, "startTime")
    end = _time_param(params, "endTime")
    exchange = context.exchange
    now = exchange.market_time()
    series = exchange.market.series[spec.symbol]
    if start is not None and end is not None and end - start > HOUR:
        raise errors.ApiError(-1127, "More than 1 hours between startTime and endTime.")
    if from_id is not None:
        points = _points_from_id(series, from_id, now, limit)
    elif start is not None or end is not None:
        upto = min(end if end is not None else now, now)
        after = (start - 1) if start is not None else upto - HOUR
        points = [point for point in series.points_between(after, upto)]
        points = points[:limit] if start is not None else points[-limit:]
    else:
        points = series.recent_points(now, limit)
    return [
        {
            "a": point.trade_id,
            "p": fmt(point.price),
            "q": fmt(point.qty),
            "f": point.first,
            "l": point.last,
            "T": point.time,
            "m": point.buyer_is_maker,
            "M": True,
        }
        for point in points
    ]


def _points_from_id(series, from_id: int, now: int, limit: int) -> list:
    collected = []
    index = 0
    if series.trades and from_id <= series.trades[-1].trade_id:
        first_time = next(
            (trade.time for trade in series.trades if trade.trade_id >= from_id), None
        )
        index = series.index_of(first_time) if first_time is not None else 0
    else:
        index = max(0, (from_id - GENERATED_TRADE_ID_BASE) // 1000)
    last_index = series.index_of(now)
    while index <= last_index and len(collected) < limit:
        collected.extend(
            point
            for point in series.points(index)
            if point.trade_id >= from_id and point.time <= now
        )
        index += 1
    return collected[:limit]


def _klines(context: Context) -> list:
    spec = context.symbol()
    params = context.params
    interval = params.text("interval", required=True)
    if interval not in INTERVALS:
        raise errors.bad_interval()
    limit = params.limit(500, 1000)
    start = _time_param(params, "startTime")
    end = _time_param(params, "endTime")
    exchange = context.exchange
    return klines(
        exchange.market.series[spec.symbol],
        interval,
        exchange.market_time(),
        start=start,
        end=end,
        limit=limit,
    )


def avg_price(context: Context) -> dict:
    spec = context.symbol()
    exchange = context.exchange
    now = exchange.market_time()
    price = exchange.market.average_price(spec.symbol, now, spec.avg_price_mins)
    last = exchange.market.series[spec.symbol].last_point(now, max_bars_back=3)
    return {
        "mins": spec.avg_price_mins,
        "price": fmt(price),
        "closeTime": last.time if last else now,
    }


def _symbols_weight(params: Params, single: int, few: int, many: int, everything: int) -> int:
    if "symbol" in params:
        return single
    names = params.text("symbols")
    if names is None:
        return everything
    count = names.count(",") + 1
    if count <= 20:
        return few
    if count <= 100:
        return many
    return everything


def ticker_price(context: Context):
    exchange = context.exchange
    now = exchange.market_time()
    rows = [
        {"symbol": spec.symbol, "price": fmt(exchange.market.last_price(spec.symbol, now))}
        for spec in context.symbols()
    ]
    return rows[0] if "symbol" in context.params else rows


def book_ticker(context: Context):
    exchange = context.exchange
    now = exchange.market_time()
    rows = []
    for spec in context.symbols():
        _, book = exchange.published_book(spec.symbol, now)
        bid = next(book.bids(1))
        ask = next(book.asks(1))
        rows.append(
            {
                "symbol": spec.symbol,
                "bidPrice": fmt(bid.price),
                "bidQty": fmt(bid.qty),
                "askPrice": fmt(ask.price),
                "askQty": fmt(ask.qty),
            }
        )
    return rows[0] if "symbol" in context.params else rows


def ticker_24hr(context: Context):
    exchange = context.exchange
    now = exchange.market_time()
    mini = context.params.enum("type", ("FULL", "MINI")) == "MINI"
    rows = []
    for spec in context.symbols():
        stats = exchange.market.rolling_window(spec.symbol, now, DAY)
        _, book = exchange.published_book(spec.symbol, now)
        bid, ask = next(book.bids(1)), next(book.asks(1))
        change = stats["last"] - stats["open"]
        percent = change / stats["open"] * 100 if stats["open"] else ZERO
        weighted = stats["quote_volume"] / stats["volume"] if stats["volume"] else stats["last"]
        row = {
            "symbol": spec.symbol,
            "priceChange": fmt(change),
            "priceChangePercent": fmt(percent, 3),
            "weightedAvgPrice": fmt(weighted),
            "prevClosePrice": fmt(exchange.market.last_price(spec.symbol, now - DAY)),
            "lastPrice": fmt(stats["last"]),
            "lastQty": fmt(stats["last_qty"]),
            "bidPrice": fmt(bid.price),
            "bidQty": fmt(bid.qty),
            "askPrice": fmt(ask.price),
            "askQty": fmt(ask.qty),
            "openPrice": fmt(stats["open"]),
            "highPrice": fmt(stats["high"]),
            "lowPrice": fmt(stats["low"]),
            "volume": fmt(stats["volume"]),
            "quoteVolume": fmt(Decimal(stats["quote_volume"])),
            "openTime": now - DAY,
            "closeTime": now,
            "firstId": stats["first_id"],
            "lastId": stats["last_id"],
            "count": stats["count"],
        }
        if mini:
            keep = (
                "symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume",
                "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count",
            )  # fmt: skip
            row = {name: row[name] for name in keep}
        rows.append(row)
    return rows[0] if "symbol" in context.params else rows


_WINDOW_UNITS = {"m": MINUTE, "h": HOUR, "d": DAY}
_WINDOW_MAXIMA = {"m": 59, "h": 23, "d": 7}


def _window_ms(text: str) -> int:
    """``1m``..``59m``, ``1h``..``23h`` or ``1d``..``7d``."""
    number, unit = text[:-1], text[-1:]
    if unit not in _WINDOW_UNITS or not number.isdigit():
        raise errors.invalid_parameter("windowSize")
    if not 1 <= int(number) <= _WINDOW_MAXIMA[unit]:
        raise errors.invalid_parameter("windowSize")
    return int(number) * _WINDOW_UNITS[unit]


def rolling_ticker(context: Context):
    """``/api/v3/ticker``: statistics of a window that opens on a minute."""
    params = context.params
    if "symbol" not in params and "symbols" not in params:
        raise errors.one_of_mandatory("symbol", "symbols")
    window = _window_ms(params.text("windowSize") or "1d")
    mini = params.enum("type", ("FULL", "MINI")) == "MINI"
    exchange = context.exchange
    now = exchange.market_time()
    open_time = now - window
    open_time -= open_time % MINUTE
    rows = []
    for spec in context.symbols():
        stats = exchange.market.rolling_window(spec.symbol, now, now - open_time)
        change = stats["last"] - stats["open"]
        percent = change / stats["open"] * 100 if stats["open"] else ZERO
        volume = stats["volume"]
        row = {
            "symbol": spec.symbol,
            "priceChange": fmt(change),
            "priceChangePercent": fmt(percent, 3),
            "weightedAvgPrice": fmt(stats["quote_volume"] / volume if volume else stats["last"]),
            "openPrice": fmt(stats["open"]),
            "highPrice": fmt(stats["high"]),
            "lowPrice": fmt(stats["low"]),
            "lastPrice": fmt(stats["last"]),
            "volume": fmt(volume),
            "quoteVolume": fmt(stats["quote_volume"]),
            "openTime": open_time,
            "closeTime": now,
            "firstId": stats["first_id"],
            "lastId": stats["last_id"],
            "count": stats["count"],
        }
        if mini:
            for name in ("priceChange", "priceChangePercent", "weightedAvgPrice"):
                row.pop(name)
        rows.append(row)
    return rows[0] if "symbol" in params else rows


def _rolling_weight(params: Params) -> int:
    if "symbol" in params:
        return 4
    names = params.text("symbols") or ""
    return min(200, 4 * (names.count(",") + 1))


def routes() -> list:
    table: list = []
    route(table, "GET", "/api/v3/depth", Endpoint(depth, weight=depth_weight))
    route(table, "GET", "/api/v3/trades", Endpoint(recent_trades, weight=25))
    route(table, "GET", "/api/v3/historicalTrades", Endpoint(recent_trades, weight=25))
    route(table, "GET", "/api/v3/aggTrades", Endpoint(agg_trades, weight=4))
    route(table, "GET", "/api/v3/klines", Endpoint(_klines, weight=2, kline_rows=True))
    route(table, "GET", "/api/v3/uiKlines", Endpoint(_klines, weight=2, kline_rows=True))
    route(table, "GET", "/api/v3/avgPrice", Endpoint(avg_price, weight=2))
    route(table, "GET", "/api/v3/ticker", Endpoint(rolling_ticker, weight=_rolling_weight))
    route(
        table,
        "GET",
        "/api/v3/ticker/price",
        Endpoint(ticker_price, weight=lambda p: _symbols_weight(p, 2, 4, 4, 4)),
    )
    route(
        table,
        "GET",
        "/api/v3/ticker/bookTicker",
        Endpoint(book_ticker, weight=lambda p: _symbols_weight(p, 2, 4, 4, 4)),
    )
    route(
        table,
        "GET",
        "/api/v3/ticker/24hr",
        Endpoint(ticker_24hr, weight=lambda p: _symbols_weight(p, 2, 2, 40, 80)),
    )
    return table
