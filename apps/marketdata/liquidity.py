"""Order-book liquidity in Redis: the streams process writes a compact summary of each
local book it keeps, at most once per interval per symbol; trading and the API read it.

One JSON key per (environment, symbol), `liquidity:<environment>:<SYMBOL>`, with a TTL
of `MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS`: the process rewrites every book in sync each
interval (a quiet market too), so a dead process or a book out of sync leaves nothing
behind for longer than that. Readers also refuse a summary older than that age.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from apps.core.decimals import to_wire
from apps.risk.engine.liquidity import BookView, depth_within

from . import conf

logger = logging.getLogger(__name__)

DEPTH_BANDS_BPS = (10, 50)
_BPS_PLACES = Decimal("0.0001")


def liquidity_key(environment: str, symbol: str) -> str:
    return f"liquidity:{environment}:{symbol.upper()}"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else to_wire(value)


def _bps(value: Decimal | None) -> str | None:
    return None if value is None else to_wire(value.quantize(_BPS_PLACES))


def summarise(
    symbol: str,
    bids: dict[Decimal, Decimal],
    asks: dict[Decimal, Decimal],
    *,
    time_ms: int,
    levels: int,
    published_at: float,
) -> dict | None:
    """A book's summary (JSON-safe, decimals as strings); None while a side is empty.
    Depth bands are measured on the whole book, the levels kept are its best `levels`."""
    whole = BookView.from_sides(symbol, bids, asks, time_ms=time_ms)
    if whole.empty:
        return None
    summary = {
        "symbol": symbol.upper(),
        "best_bid": _text(whole.best_bid),
        "best_ask": _text(whole.best_ask),
        "mid": _text(whole.mid),
        "spread_bps": _bps(whole.spread_bps),
        "time_ms": int(time_ms),
        "published_at": published_at,
        "bids": [[_text(p), _text(q)] for p, q in whole.bids[:levels]],
        "asks": [[_text(p), _text(q)] for p, q in whole.asks[:levels]],
    }
    for band in DEPTH_BANDS_BPS:
        depth = depth_within(whole, Decimal(band))
        summary[f"depth_{band}bps"] = {
            "bid_quote": _text(depth.bid_quote),
            "ask_quote": _text(depth.ask_quote),
        }
    return summary


@dataclass(frozen=True)
class LiquiditySummary:
    """A summary read back: the raw fields for display and the book's top levels as the
    risk engine's `BookView` for slippage estimates."""

    environment: str
    data: dict

    @property
    def symbol(self) -> str:
        return self.data["symbol"]

    @property
    def published_at(self) -> float:
        return float(self.data["published_at"])

    @property
    def spread_bps(self) -> Decimal | None:
        value = self.data.get("spread_bps")
        return None if value is None else Decimal(value)

    @property
    def book(self) -> BookView:
        def side(levels):
            return tuple((Decimal(p), Decimal(q)) for p, q in levels)

        return BookView(
            self.symbol, side(self.data["bids"]), side(self.data["asks"]), self.data["time_ms"]
        )


class LiquidityStore:
    def __init__(self, redis_client, environment: str):
        self.redis = redis_client
        self.environment = environment

    def write(self, summaries: Iterable[dict]) -> int:
        ttl = max(1, round(conf.liquidity_max_age_seconds()))
        pipe = self.redis.pipeline(transaction=False)
        count = 0
        for summary in summaries:
            key = liquidity_key(self.environment, summary["symbol"])
            pipe.set(key, json.dumps(summary, separators=(",", ":")), ex=ttl)
            count += 1
        if count:
            pipe.execute()
        return count

    def forget(self, symbols: Iterable[str]) -> None:
        keys = [liquidity_key(self.environment, s) for s in symbols]
        if keys:
            self.redis.delete(*keys)

    def read(self, symbol: str, *, max_age: float | None = None) -> LiquiditySummary | None:
        """The symbol's summary, or None when there is none or it is older than
        `max_age` seconds (default `MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS`)."""
        raw = self.redis.get(liquidity_key(self.environment, symbol))
        if raw is None:
            return None
        summary = LiquiditySummary(self.environment, json.loads(raw))
        limit = conf.liquidity_max_age_seconds() if max_age is None else max_age
        if time.time() - summary.published_at > limit:
            return None
        return summary


class LiquidityPublisher:
    """Every `interval` seconds, one pipelined write of every followed book that is in
    sync. `books()` returns {symbol: (LocalOrderBook, last event time in ms)}."""

    def __init__(
        self,
        environment: str,
        books: Callable[[], dict],
        *,
        redis_client=None,
        interval: float | None = None,
        levels: int | None = None,
    ):
        self.environment = environment
        self._books = books
        self._redis = redis_client
        self.interval = conf.liquidity_interval_seconds() if interval is None else interval
        self.levels = conf.liquidity_levels() if levels is None else levels
        self.published = 0
        # A write and a forget never overlap: a summary taken just before a symbol was
        # dropped would otherwise land after its deletion and outlive it by the TTL.
        self._writing = asyncio.Lock()

    def store(self) -> LiquidityStore:
        if self._redis is None:
            from apps.core.redis import get_redis

            self._redis = get_redis()
        return LiquidityStore(self._redis, self.environment)

    def summaries(self) -> list[dict]:
        now = time.time()
        out = []
        for symbol, (book, time_ms) in sorted(self._books().items()):
            if not book.synced:
                continue  # out of sync: let the key expire rather than show a wrong book
            summary = summarise(
                symbol, book.bids, book.asks, time_ms=time_ms, levels=self.levels,
                published_at=now,
            )  # fmt: skip
            if summary is not None:
                out.append(summary)
        return out

    async def publish_once(self) -> int:
        async with self._writing:
            summaries = self.summaries()
            if not summaries:
                return 0
            written = await asyncio.to_thread(self.store().write, summaries)
        self.published += written
        return written

    async def forget(self, symbols: list[str]) -> None:
        """Delete the summaries of symbols no longer followed (after any write under
        way; the caller has already stopped following them)."""
        async with self._writing:
            await asyncio.to_thread(self.store().forget, symbols)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.publish_once()
            except Exception:  # a view of the market: never stop the streams for it
                logger.exception("liquidity publish failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
