"""What each market stream has to say as the market clock moves from one step to the next.

One feed per stream name, shared by every connection subscribed to it. Depth streams
number book states by ``update_id`` (market milliseconds // 10): the published book of an
id is the synthetic book at the start of its 10 ms, which is also what REST ``depth``
returns with ``lastUpdateId``, so a snapshot plus the diffs after it rebuild the book
exactly (Binance's local order book procedure).
"""

from __future__ import annotations

from collections import OrderedDict

from apps.paper_exchange.marketdata.bars import bucket_close, bucket_open
from apps.paper_exchange.marketdata.klines import aggregate
from apps.paper_exchange.numbers import fmt
from apps.paper_exchange.streams import payloads
from apps.paper_exchange.streams.names import StreamName

UPDATE_ID_MS = 10
ZERO_QTY = fmt(0)
# A big jump of the test clock is summarised, not replayed trade by trade.
MAX_TRADES_PER_STEP = 2000
MAX_CLOSED_KLINES_PER_STEP = 100


def update_id(market_ms: int) -> int:
    return market_ms // UPDATE_ID_MS


class Books:
    """Formatted levels of the published book per (symbol, update id), a few kept."""

    def __init__(self, engine, levels: int):
        self.engine = engine
        self.levels = levels
        self._cache: OrderedDict = OrderedDict()

    def at(self, symbol: str, uid: int, count: int | None = None) -> tuple[list, list]:
        """Bids and asks of the published book ``uid``: all levels, or the best ``count``
        (computed alone when the whole book is not needed: partial depth, book ticker)."""
        full = self._cache.get((symbol, uid, None))
        if full is not None:
            return full if count is None else (full[0][:count], full[1][:count])
        key = (symbol, uid, count)
        cached = self._cache.get(key)
        if cached is None:
            book = self.engine.book(symbol, uid * UPDATE_ID_MS)
            levels = self.levels if count is None else min(count, self.levels)
            cached = (
                [(fmt(level.price), fmt(level.qty)) for level in book.bids(levels)],
                [(fmt(level.price), fmt(level.qty)) for level in book.asks(levels)],
            )
            self._cache[key] = cached
            if len(self._cache) > 64:
                self._cache.popitem(last=False)
        return cached


class Feed:
    def __init__(self, stream: StreamName, exchange, books: Books, now: int):
        self.stream = stream
        self.exchange = exchange
        self.books = books
        self.last = now

    def step(self, now: int, wall: int, test_clock: bool) -> list[dict]:
        raise NotImplementedError


class TradeFeed(Feed):
    def step(self, now, wall, test_clock):
        if now <= self.last:
            return []
        series = self.exchange.market.series[self.stream.symbol]
        points = list(series.points_between(self.last, now))[-MAX_TRADES_PER_STEP:]
        self.last = now
        build = payloads.trade if self.stream.kind == "trade" else payloads.agg_trade
        return [build(self.stream.symbol, point, now) for point in points]


class KlineFeed(Feed):
    """The open kline every 2 s (1 s for ``1s``), a final one (``x: true``) on close."""

    def __init__(self, stream, exchange, books, now):
        super().__init__(stream, exchange, books, now)
        self.open = bucket_open(stream.interval, now)
        self.last_wall = 0
        self.cadence_ms = 1000 if stream.interval == "1s" else 2000

    def step(self, now, wall, test_clock):
        interval = self.stream.interval
        current = bucket_open(interval, now)
        events = []
        closed_opens = []
        opening = self.open
        while opening < current:
            closed_opens.append(opening)
            opening = bucket_close(interval, opening)
        for open_time in closed_opens[-MAX_CLOSED_KLINES_PER_STEP:]:
            events.append(self._kline(open_time, now, closed=True))
        moved = now > self.last
        due = moved and (test_clock or wall - self.last_wall >= self.cadence_ms)
        if closed_opens or due:
            events.append(self._kline(current, now, closed=False))
            self.last_wall = wall
        self.open = current
        self.last = now
        return [event for event in events if event is not None]

    def _kline(self, open_time: int, now: int, closed: bool) -> dict | None:
        symbol, interval = self.stream.symbol, self.stream.interval
        series = self.exchange.market.series[symbol]
        close_time = bucket_close(interval, open_time)
        bar = aggregate(series, open_time, close_time, now, None)
        if bar is None:
            return None
        first_id, last_id = _trade_ids(series, open_time, min(now, close_time - 1))
        return payloads.kline(symbol, interval, bar, close_time, first_id, last_id, closed, now)


def _trade_ids(series, open_time: int, upto: int) -> tuple[int, int]:
    last = series.last_point(upto, max_bars_back=3)
    if last is None or last.time < open_time:
        return -1, -1
    index = max(0, series.index_of(open_time))
    while index <= series.index_of(upto):
        for point in series.points(index):
            if point.time >= open_time:
                return point.first, last.last
        index += 1
    return -1, -1


class BookTickerFeed(Feed):
    def __init__(self, stream, exchange, books, now):
        super().__init__(stream, exchange, books, now)
        self.top = None

    def step(self, now, wall, test_clock):
        uid = update_id(now)
        bids, asks = self.books.at(self.stream.symbol, uid, 1)
        top = (bids[0], asks[0])
        if top == self.top:
            return []
        self.top = top
        return [payloads.book_ticker(self.stream.symbol, uid, bids[0], asks[0])]


class DepthFeed(Feed):
    """Diffs between consecutive published books, ``U`` = previous ``u`` + 1."""

    def __init__(self, stream, exchange, books, now):
        super().__init__(stream, exchange, books, now)
        self.uid = update_id(now)
        self.sides = self._sides(self.uid)

    def _sides(self, uid: int) -> tuple[dict, dict]:
        bids, asks = self.books.at(self.stream.symbol, uid)
        return dict(bids), dict(asks)

    def step(self, now, wall, test_clock):
        if now // self.stream.cadence_ms == self.last // self.stream.cadence_ms:
            return []
        self.last = now
        uid = update_id(now)
        if uid <= self.uid:
            return []
        sides = self._sides(uid)
        bids = _diff(self.sides[0], sides[0])
        asks = _diff(self.sides[1], sides[1])
        if not bids and not asks:
            return []  # nothing changed: the next diff starts where this one would have
        event = payloads.depth_update(self.stream.symbol, self.uid + 1, uid, bids, asks, now)
        self.uid, self.sides = uid, sides
        return [event]


def _diff(old: dict, new: dict) -> list[list[str]]:
    changed = [[price, qty] for price, qty in new.items() if old.get(price) != qty]
    changed.extend([price, ZERO_QTY] for price in old if price not in new)
    return changed


class PartialDepthFeed(Feed):
    def step(self, now, wall, test_clock):
        if now // self.stream.cadence_ms == self.last // self.stream.cadence_ms:
            return []
        self.last = now
        uid = update_id(now)
        bids, asks = self.books.at(self.stream.symbol, uid, self.stream.levels)
        return [payloads.partial_depth(uid, [list(b) for b in bids], [list(a) for a in asks])]


FEEDS = {
    "trade": TradeFeed,
    "aggTrade": TradeFeed,
    "kline": KlineFeed,
    "bookTicker": BookTickerFeed,
    "depth": DepthFeed,
    "partialDepth": PartialDepthFeed,
}


def make_feed(stream: StreamName, exchange, books: Books, now: int) -> Feed:
    return FEEDS[stream.kind](stream, exchange, books, now)
