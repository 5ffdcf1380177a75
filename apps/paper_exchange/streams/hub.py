"""The market stream hub: which connection listens to which stream, and a loop that moves
every feed along with the market clock and fans each payload out to its subscribers.

A payload is serialised once per stream, and once more in the combined wrapper, however
many connections listen to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict

from apps.paper_exchange.streams.connection import Connection
from apps.paper_exchange.streams.feed import Books, Feed, make_feed
from apps.paper_exchange.streams.names import StreamName
from apps.paper_exchange.streams.payloads import in_microseconds

logger = logging.getLogger(__name__)


def dumps(data) -> str:
    return json.dumps(data, separators=(",", ":"))


class StreamHub:
    def __init__(self, exchange):
        self.exchange = exchange
        self.books = Books(exchange.engine, exchange.config.book_levels)
        self.feeds: dict[str, Feed] = {}
        self.subscribers: dict[str, set[Connection]] = defaultdict(set)
        self.connections: set[Connection] = set()
        self.api_sessions: set = set()  # WebSocket API sessions (for drops and shutdowns)
        self._wake = asyncio.Event()
        # Tests and the admin endpoint wait for a step to have happened.
        self.steps = 0

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(self, connection: Connection, stream: StreamName) -> None:
        if stream.name not in self.feeds:
            now = self.exchange.market_time()
            self.feeds[stream.name] = make_feed(stream, self.exchange, self.books, now)
        self.subscribers[stream.name].add(connection)
        connection.streams[stream.name] = stream

    def unsubscribe(self, connection: Connection, name: str) -> None:
        connection.streams.pop(name, None)
        listeners = self.subscribers.get(name)
        if listeners is None:
            return
        listeners.discard(connection)
        if not listeners:
            del self.subscribers[name]
            self.feeds.pop(name, None)

    def attach(self, connection: Connection) -> None:
        self.connections.add(connection)

    def detach(self, connection: Connection) -> None:
        for name in list(connection.streams):
            self.unsubscribe(connection, name)
        self.connections.discard(connection)

    # -- publishing ----------------------------------------------------------------------

    def publish(self, name: str, payload: dict) -> None:
        listeners = self.subscribers.get(name)
        if not listeners:
            return
        faults = self.exchange.faults
        # Serialised once per variant (ms or µs, raw or combined), not per connection.
        texts: dict[tuple[bool, bool], str] = {}
        copies = faults.depth_copies(name, payload) if "U" in payload else 1
        for connection in listeners:
            variant = (connection.micro, connection.combined)
            text = texts.get(variant)
            if text is None:
                body = dumps(in_microseconds(payload) if connection.micro else payload)
                text = f'{{"stream":"{name}","data":{body}}}' if connection.combined else body
                texts[variant] = text
            for _ in range(copies):
                connection.send(text)

    def step(self) -> None:
        exchange = self.exchange
        now = exchange.market_time()
        wall = int(time.monotonic() * 1000)
        test_clock = exchange.config.test_clock
        faults = exchange.faults
        for name, feed in list(self.feeds.items()):
            for payload in faults.reorder(name, feed.step(now, wall, test_clock)):
                self.publish(name, payload)
        self.steps += 1

    def wake(self) -> None:
        self._wake.set()

    async def run(self, interval: float = 0.1) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            try:
                self.step()
            except Exception:
                logger.exception("paper exchange: stream step failed")

    # -- faults and shutdown -----------------------------------------------------------

    def matching(self, symbol: str | None = None, stream: str | None = None) -> list[Connection]:
        found = []
        for connection in self.connections:
            names = connection.streams
            if stream is not None and stream not in names:
                continue
            if symbol is not None and not any(
                getattr(item, "symbol", None) == symbol for item in names.values()
            ):
                continue
            found.append(connection)
        return found

    def shutdown_notice(self, connections: list[Connection], now: int) -> None:
        payload = dumps({"e": "serverShutdown", "E": now})
        for connection in connections:
            if connection.combined:
                connection.send(f'{{"stream":"!serverShutdown","data":{payload}}}')
            else:
                connection.send(payload)
