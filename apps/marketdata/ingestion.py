"""Market-data ingestion for one shard: the streams process's market half.

Each (symbol, interval) that an enabled strategy config of an active account trades is
followed once, by the shard that owns the symbol (a stable hash, so no candle is
ingested twice or missed); the set follows configuration changes without a restart.
Every closed kline is written to `Candle` (idempotent upsert) and to the Redis cache
of latest prices and candle windows. With `MARKETDATA_ORDER_BOOKS` on, the shard also
keeps a local order book of each symbol it follows (diff-depth stream + REST snapshot)
and publishes its liquidity summary to Redis every second (`liquidity.py`). A heartbeat
per shard feeds /status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import zlib
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from apps.core.redis import get_redis
from apps.exchange.environments import endpoints_for
from apps.exchange.streams.depth import OrderBookFeeds, depth_stream
from apps.exchange.streams.kline_gaps import backfill_closed_klines
from apps.exchange.streams.supervisor import MarketStreamSupervisor, kline_stream

from . import conf
from .cache import MarketCache
from .derived import (
    StreamPlan,
    aggregate,
    bucket_start,
    closes_bucket,
    parts_needed,
    plan_streams,
)
from .intervals import INTERVAL_MS
from .klines import KlineRow, parse_kline
from .liquidity import LiquidityPublisher
from .models import Candle
from .selectors import candles_between
from .services import ensure_symbol, sync_symbols, upsert_candles
from .tickers import TickerPublisher
from .times import datetime_to_ms, ms_to_datetime
from .warming import active_streams, warm_window

logger = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "spotdesk:heartbeat:streams:"
ClosedCandleHook = Callable[[str, str, str, int], Awaitable[None] | None]


def shard_of(symbol: str, shard_count: int) -> int:
    """A stable owner for a symbol (Python's hash() changes between processes)."""
    return zlib.crc32(symbol.upper().encode()) % shard_count


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' -> (i, n), with 0 <= i < n."""
    index, _, count = text.partition("/")
    shard, total = int(index), int(count or 1)
    if not 0 <= shard < total:
        raise ValueError("shard must be i/n with 0 <= i < n")
    return shard, total


def _parse_stream(stream: str) -> tuple[str, str]:
    """'btcusdt@kline_1m' -> ('BTCUSDT', '1m')."""
    name, _, kind = stream.partition("@kline_")
    return name.upper(), kind


def record_closed_kline(environment: str, symbol: str, interval: str, row: list) -> int:
    """Store one closed kline (database, then cache); returns its open time in ms."""
    close_old_connections()
    store_kline(environment, symbol, interval, parse_kline(row))
    return int(row[0])


def store_kline(environment: str, symbol: str, interval: str, kline: KlineRow) -> None:
    upsert_candles(
        symbol=ensure_symbol(environment=environment, name=symbol), interval=interval, rows=[kline]
    )
    cache = MarketCache(get_redis(), environment)
    cache.add_candles(symbol, interval, [kline])
    cache.set_price(symbol, kline.close, datetime_to_ms(kline.close_time))


def derive_candle(environment: str, symbol: str, base: str, interval: str, open_ms: int, gateway):
    """Build and store the `interval` candle that the base candle at `open_ms` closed:
    from the stored base candles when all are there, else from the exchange's REST
    kline (a gap inside the bucket). Returns the derived candle's open time in ms."""
    close_old_connections()
    start = bucket_start(open_ms, interval)
    stored = ensure_symbol(environment=environment, name=symbol)
    parts = candles_between(
        symbol=stored, interval=base, start=ms_to_datetime(start),
        end=ms_to_datetime(start + INTERVAL_MS[interval]),
    )  # fmt: skip
    if len(parts) == parts_needed(base, interval):
        kline = aggregate([c.as_kline_row() for c in parts], interval)
    else:
        rows = gateway.klines(symbol, interval, startTime=start, endTime=start, limit=1)
        if not rows:
            return None
        kline = parse_kline(rows[0])
    store_kline(environment, symbol, interval, kline)
    return start


def _book_stream(symbol: str) -> str:
    """The 1000 ms diff-depth stream: summaries go out once a second, so the 100 ms one
    would cost ten times the messages for nothing."""
    return depth_stream(symbol, speed="")


class MarketDataShard:
    def __init__(
        self,
        *,
        environment: str,
        shard: int = 0,
        shard_count: int = 1,
        refresh_seconds: float = 30.0,
        on_closed_candle: ClosedCandleHook | None = None,
        gateway=None,
    ):
        self.environment = environment
        self.shard, self.shard_count = shard, shard_count
        self.refresh_seconds = refresh_seconds
        self._on_closed_candle = on_closed_candle
        if gateway is None:
            from apps.exchange.gateway import ExchangeGateway

            gateway = ExchangeGateway(environment)
        self._gateway = gateway
        self.followed: set[str] = set()
        self.derived: dict[tuple[str, str], tuple[str, ...]] = {}
        self._derived_pairs: set[tuple[str, str]] = set()
        self._symbols_due = float("-inf")
        self.tickers = TickerPublisher(environment)
        self.order_books = conf.order_books_enabled()
        self.books = OrderBookFeeds(self._depth_snapshot)
        self.book_symbols: set[str] = set()
        self._book_times: dict[str, int] = {}  # symbol -> exchange time of its last diff
        self._book_seen: dict[str, float] = {}  # symbol -> monotonic time of its last diff
        self._snapshot_gateway = None
        self._snapshot_lock = threading.Lock()
        self.liquidity = LiquidityPublisher(environment, self._followed_books)
        self.supervisor = MarketStreamSupervisor(
            endpoints_for(environment).stream,
            on_closed_kline=self._closed_kline,
            backfill=self._backfill,
            on_event=self._event,
            # The catch-up on connect asks which klines closed by now: the exchange's
            # now (wall clock plus the measured offset), not this host's.
            clock=gateway.exchange_now_ms,
        )

    def plan(self) -> StreamPlan:
        """This shard's subscriptions, and the intervals derived from them."""
        close_old_connections()
        pairs = active_streams(environment=self.environment)
        return plan_streams(
            (symbol, interval)
            for symbol, interval in pairs
            if shard_of(symbol, self.shard_count) == self.shard
        )

    def desired(self) -> set[str]:
        return {kline_stream(symbol, interval) for symbol, interval in self.plan().subscribed}

    def warm_up(self, symbol: str, interval: str) -> int:
        """Before following a (symbol, interval): store its recent closed candles from
        REST and fill the cache, without triggering cycles (those candles are history)."""
        from .backfill import backfill_klines

        count = conf.warmup_candles()
        if count <= 0:
            return 0
        close_old_connections()
        now = self._gateway.exchange_now_ms()
        written = backfill_klines(
            self._gateway, environment=self.environment, symbol=symbol, interval=interval,
            start_ms=now - count * INTERVAL_MS[interval], end_ms=now,
        )  # fmt: skip
        warm_window(
            symbol=ensure_symbol(environment=self.environment, name=symbol), interval=interval
        )
        return written

    def resume_point(self, symbol: str, interval: str) -> int | None:
        """Open time of the last candle stored before this process followed the stream,
        when it lies within the warm-up window (older: history, not missed closes)."""
        close_old_connections()
        step = INTERVAL_MS[interval]
        last = (
            Candle.objects.filter(
                symbol__environment=self.environment, symbol__name=symbol, interval=interval
            )
            .order_by("-open_time")
            .values_list("open_time", flat=True)
            .first()
        )
        if last is None:
            return None
        horizon = self._gateway.exchange_now_ms() - conf.warmup_candles() * step
        opened = datetime_to_ms(last)
        return opened if opened >= horizon else None

    def _backfill(self, symbol: str, interval: str, first: int, last: int) -> list:
        return backfill_closed_klines(self._gateway, symbol, interval, first, last)

    def _depth_snapshot(self, symbol: str) -> dict:
        """A REST depth snapshot for a book out of sync. Called from worker threads
        (`OrderBookFeeds`), so through a gateway of its own, one request at a time (a
        gateway is not thread-safe)."""
        with self._snapshot_lock:
            if self._snapshot_gateway is None:
                from apps.exchange.gateway import ExchangeGateway

                self._snapshot_gateway = ExchangeGateway(self.environment)
            return self._snapshot_gateway.depth(symbol, limit=conf.order_book_snapshot_limit())

    def _followed_books(self) -> dict:
        """The books worth publishing: in sync, and with a diff received on the
        connection open now. While it is down nothing is published (the summaries
        expire); after a reconnect, the first diff either continues the sequence or
        reveals the gap and forces a resync, so a book is never shown across a break."""
        books = {}
        for symbol in self.book_symbols:
            book = self.books.books.get(symbol)
            since = self.supervisor.connected_since(_book_stream(symbol))
            seen = self._book_seen.get(symbol)
            if book is not None and since is not None and seen is not None and seen >= since:
                books[symbol] = (book, self._book_times.get(symbol, 0))
        return books

    async def _refresh_books(self, symbols: set[str]) -> None:
        """Follow the diff-depth stream of exactly these symbols."""
        wanted = symbols if self.order_books else set()
        added, removed = sorted(wanted - self.book_symbols), sorted(self.book_symbols - wanted)
        self.book_symbols = set(wanted)
        if added:
            await self.supervisor.subscribe([_book_stream(s) for s in added])
        if removed:
            await self.supervisor.unsubscribe([_book_stream(s) for s in removed])
            for symbol in removed:
                self.books.books.pop(symbol, None)
                self._book_times.pop(symbol, None)
                self._book_seen.pop(symbol, None)
            await self.liquidity.forget(removed)

    async def _event(self, stream: str, data: dict) -> None:
        """An open kline's update: the latest price, for the live pages. A diff-depth
        event: the symbol's local book."""
        if data.get("e") == "depthUpdate":
            symbol = str(data.get("s", "")).upper()
            if symbol in self.book_symbols:
                self._book_times[symbol] = int(data.get("E") or 0)
                self._book_seen[symbol] = time.monotonic()
                await self.books.on_event(stream, data)
            return
        if data.get("e") == "kline":
            kline = data["k"]
            await self._ticker(kline["s"], kline["c"], int(data.get("E") or kline["T"]))

    async def _ticker(self, symbol: str, price, time_ms: int) -> None:
        try:
            await self.tickers.offer(symbol, price, time_ms)
        except Exception:  # live prices are a view: never let them stop ingestion
            logger.exception("ticker publish failed")

    async def _closed_kline(self, symbol: str, interval: str, row: list) -> None:
        await sync_to_async(record_closed_kline)(self.environment, symbol, interval, row)
        await self._ticker(symbol, row[4], int(row[6]))
        await self._closed(symbol, interval, int(row[0]))
        for derived in self.derived.get((symbol, interval), ()):
            if not closes_bucket(int(row[0]), interval, derived):
                continue
            opened = await sync_to_async(derive_candle)(
                self.environment, symbol, interval, derived, int(row[0]), self._gateway
            )
            if opened is not None:
                await self._closed(symbol, derived, opened)

    async def _closed(self, symbol: str, interval: str, open_ms: int) -> None:
        if self._on_closed_candle is not None:
            result = self._on_closed_candle(self.environment, symbol, interval, open_ms)
            if asyncio.iscoroutine(result):
                await result

    def sync_symbols(self) -> list[str]:
        """Symbols, filters and statuses from exchangeInfo (shard 0 only, so a status
        change alerts once); returns the symbols whose status changed."""
        close_old_connections()
        return sync_symbols(
            environment=self.environment, exchange_info=self._gateway.exchange_info(refresh=True)
        )

    async def _maybe_sync_symbols(self) -> None:
        if self.shard != 0 or time.monotonic() < self._symbols_due:
            return
        self._symbols_due = time.monotonic() + conf.symbols_refresh_seconds()
        try:
            await sync_to_async(self.sync_symbols)()
        except Exception:  # the next refresh tries again; candles keep flowing meanwhile
            logger.exception("exchangeInfo sync failed")

    async def refresh(self) -> None:
        """Follow exactly the streams the configuration wants now."""
        await self._maybe_sync_symbols()
        plan = await sync_to_async(self.plan)()
        wanted = {kline_stream(symbol, interval) for symbol, interval in plan.subscribed}
        added, removed = sorted(wanted - self.followed), sorted(self.followed - wanted)
        new_derived = plan.derived_pairs() - self._derived_pairs
        for symbol, interval in sorted({_parse_stream(s) for s in added} | new_derived):
            try:
                resume = await sync_to_async(self.resume_point)(symbol, interval)
                await sync_to_async(self.warm_up)(symbol, interval)
            except Exception:  # history is a nicety: never keep a stream from starting
                logger.exception("warm-up of %s %s failed; following anyway", symbol, interval)
                continue
            if resume is not None:
                # Candles that closed while nobody followed (a restart, a crash) are then
                # delivered by the supervisor (its catch-up on connect, or the gap the
                # next close reveals), so each still reaches its cycle.
                self.supervisor.tracker.record(symbol, interval, resume)
        self.derived, self._derived_pairs = dict(plan.derived), plan.derived_pairs()
        if added:
            await self.supervisor.subscribe(added)
        if removed:
            await self.supervisor.unsubscribe(removed)
        self.followed = wanted
        await self._refresh_books({symbol for symbol, _ in plan.subscribed})
        self._heartbeat()

    def _heartbeat(self) -> None:
        beat = {"shard": f"{self.shard}/{self.shard_count}", "streams": len(self.followed),
                "books": len(self.book_symbols), "reconnects": self.supervisor.reconnects,
                "seen_at": time.time()}  # fmt: skip
        key = f"{HEARTBEAT_PREFIX}{self.environment}:{self.shard}"
        get_redis().set(key, json.dumps(beat), ex=max(60, int(self.refresh_seconds * 3)))

    async def run(self, stop: asyncio.Event) -> None:
        self.supervisor.start()
        publisher = asyncio.create_task(self.liquidity.run(stop), name="liquidity")
        try:
            while not stop.is_set():
                await self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.refresh_seconds)
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
            await self.supervisor.stop()
            # The database work ran in sync_to_async's thread: release its connection.
            await sync_to_async(connections.close_all)()
