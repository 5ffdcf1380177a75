"""Local order books fed by the stream supervisor: diff-depth events in, REST snapshots
fetched whenever a book is out of sync (at start, after a sequence gap, or when the
snapshot turns out older than the buffered events)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .order_book import DepthEvent, LocalOrderBook

logger = logging.getLogger(__name__)

SnapshotFetcher = Callable[[str], dict]  # symbol -> REST /api/v3/depth body


def depth_stream(symbol: str, speed: str = "@100ms") -> str:
    return f"{symbol.lower()}@depth{speed}"


class OrderBookFeeds:
    def __init__(self, fetch_snapshot: SnapshotFetcher, *, max_snapshot_attempts: int = 5):
        self._fetch = fetch_snapshot
        self._max_attempts = max_snapshot_attempts
        self.books: dict[str, LocalOrderBook] = {}
        self._syncing: dict[str, asyncio.Task] = {}

    def book(self, symbol: str) -> LocalOrderBook:
        symbol = symbol.upper()
        if symbol not in self.books:
            self.books[symbol] = LocalOrderBook(symbol)
        return self.books[symbol]

    async def on_event(self, stream: str, data: dict) -> None:
        """Supervisor event handler: diff-depth events only, others are ignored."""
        if data.get("e") != "depthUpdate":
            return
        book = self.book(data["s"])
        in_sync = book.on_event(DepthEvent.from_stream(data))
        if (not in_sync or not book.synced) and book.symbol not in self._syncing:
            self._syncing[book.symbol] = asyncio.create_task(self._resync(book))

    async def wait_synced(self, symbol: str, timeout: float = 10.0) -> LocalOrderBook:
        book = self.book(symbol)
        deadline = asyncio.get_running_loop().time() + timeout
        while not book.synced:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{symbol} order book did not sync")
            await asyncio.sleep(0.02)
        return book

    async def _resync(self, book: LocalOrderBook) -> None:
        try:
            for _ in range(self._max_attempts):
                snapshot = await asyncio.to_thread(self._fetch, book.symbol)
                if book.on_snapshot(snapshot):
                    return
                # The snapshot predates the buffered events: events are still coming,
                # so the next one will be recent enough.
                await asyncio.sleep(0.1)
            logger.warning("order book %s: no usable snapshot", book.symbol)
        finally:
            self._syncing.pop(book.symbol, None)
