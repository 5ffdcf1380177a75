"""The market-data stream supervisor: combined WebSocket connections for a dynamic set
of streams, kept alive whatever the network does, without ever missing a closed kline.

- Streams are packed on as few combined connections as `per_connection` allows
  (`StreamPlan`); subscriptions change at run time through SUBSCRIBE/UNSUBSCRIBE,
  paced to Binance's 5 incoming messages per second per connection.
- Each connection reconnects with exponential backoff and jitter, within the shared
  connection-attempt budget, and is rotated before Binance's 24-hour cut-off.
- A connection that goes quiet for `stall_seconds` is treated as dead (a stalled
  stream looks open but delivers nothing).
- Reading never blocks on the consumer: messages go through a bounded queue; when it
  is full the message is dropped, counted and alerted, and the kline tracker turns
  the loss into a REST backfill.
- After every (re)connect and whenever a closed kline arrives out of sequence, the
  missing closed klines are fetched from REST, so the consumer sees each exactly once.
- An update of an open kline proves every earlier kline has closed, by the exchange's
  own clock: if the last close seen is older than the one before it (its close was
  lost, or fell while reconnecting), it is fetched at once rather than when the next
  close reveals the gap, an interval later. This holds however far the local clock
  is from the exchange's, where the catch-up on connect has to trust the local one
  (and so leaves the last few seconds to this rule: an open kline must never be
  delivered as closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from apps.monitoring.metrics import (
    STREAM_MESSAGES_DROPPED,
    STREAM_RECONNECTS,
    STREAM_STALLS,
)

from .kline_gaps import ClosedKlineTracker
from .plan import MessagePacer, StreamPlan, control_messages

logger = logging.getLogger(__name__)

ClosedKlineHandler = Callable[[str, str, list], Awaitable[None]]
EventHandler = Callable[[str, dict], Awaitable[None]]
Backfill = Callable[[str, str, int, int], list]  # (symbol, interval, first, last) -> rows


@dataclass
class SupervisorConfig:
    per_connection: int = 200
    stall_seconds: float = 30.0
    max_connection_age: float = 23 * 3600.0  # rotate before Binance's 24 h cut-off
    queue_size: int = 10_000
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    drop_alert_interval: float = 60.0  # at most one slow-consumer alert per interval
    gap_retry_seconds: float = 5.0  # a gap that REST could not fill waits this long to retry
    # The catch-up on connect trusts the clock only this far: a kline that closed less
    # than this before "now" may still be open at the exchange (the measured offset is
    # never exact, and REST returns the open kline). Its close comes from the stream or
    # from the open-kline rule, within Binance's 2-second update period (on a market
    # with no update at all, with the next close: late, never wrong).
    catch_up_margin_ms: int = 3_000


@dataclass
class _Connection:
    index: int
    streams: set[str]
    socket: object | None = None
    opened_at: float | None = None  # monotonic; None while down
    pacer: MessagePacer = field(default_factory=MessagePacer)
    next_id: int = 1
    task: asyncio.Task | None = None


def kline_row(kline: dict) -> list:
    """A stream kline (`k`) in the 12-column REST layout, strings as Binance sends."""
    return [
        kline["t"], kline["o"], kline["h"], kline["l"], kline["c"], kline["v"],
        kline["T"], kline["q"], kline["n"], kline["V"], kline["Q"], "0",
    ]  # fmt: skip


def kline_stream(symbol: str, interval: str) -> str:
    return f"{symbol.lower()}@kline_{interval}"


class MarketStreamSupervisor:
    def __init__(
        self,
        stream_url: str,
        *,
        on_closed_kline: ClosedKlineHandler,
        backfill: Backfill,
        on_event: EventHandler | None = None,
        config: SupervisorConfig | None = None,
        connection_permit: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], int] | None = None,
    ):
        self.stream_url = stream_url.rstrip("/")
        self.config = config or SupervisorConfig()
        self.plan = StreamPlan(per_connection=self.config.per_connection)
        self.tracker = ClosedKlineTracker()
        self._on_closed_kline = on_closed_kline
        self._on_event = on_event
        self._backfill = backfill
        self._permit = connection_permit
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._connections: dict[int, _Connection] = {}
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=self.config.queue_size)
        self._kline_streams: dict[str, tuple[str, str]] = {}
        self._consumer: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._delivery_lock = asyncio.Lock()
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._dropped = 0
        self._lost_messages = False
        self._last_drop_alert = float("-inf")
        self._gap_retry_at: dict[tuple[str, str], float] = {}

    # --- subscriptions -----------------------------------------------------------
    async def subscribe(self, streams: list[str]) -> None:
        for stream in streams:
            parsed = _parse_kline_stream(stream)
            if parsed:
                self._kline_streams[stream] = parsed
        for index, added in self.plan.add(streams).items():
            connection = self._connections.get(index)
            if connection is None:
                self._open(index)
            elif connection.socket is not None:
                await self._send_control(connection, "SUBSCRIBE", added)
            # A connection still (re)connecting picks its streams up from the plan.

    async def unsubscribe(self, streams: list[str]) -> None:
        for index, removed in self.plan.remove(streams).items():
            connection = self._connections.get(index)
            if connection is not None and connection.socket is not None:
                await self._send_control(connection, "UNSUBSCRIBE", removed)
        for stream in streams:
            self._kline_streams.pop(stream, None)

    def connected_since(self, stream: str) -> float | None:
        """When (monotonic) the connection carrying `stream` opened; None while it is
        down or the stream is not subscribed. A consumer that needs an unbroken
        sequence (an order book) compares it with the time of its last message."""
        for index, streams in enumerate(self.plan.connections):
            if stream in streams:
                connection = self._connections.get(index)
                return None if connection is None else connection.opened_at
        return None

    # --- life cycle --------------------------------------------------------------
    def start(self) -> None:
        self._consumer = asyncio.create_task(self._consume(), name="streams-consumer")

    async def stop(self) -> None:
        self._stopping.set()
        tasks = [c.task for c in self._connections.values() if c.task]
        if self._consumer:
            tasks.append(self._consumer)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _open(self, index: int) -> None:
        connection = _Connection(index=index, streams=self.plan.connections[index])
        self._connections[index] = connection
        connection.task = asyncio.create_task(self._run(connection), name=f"streams-{index}")

    async def _run(self, connection: _Connection) -> None:
        delay = self.config.backoff_initial
        first = True
        while not self._stopping.is_set():
            if not first:
                # Full jitter: many connections dropped together don't return together.
                await asyncio.sleep(random.uniform(0, delay))
                delay = min(delay * 2, self.config.backoff_max)
                self.reconnects += 1
                STREAM_RECONNECTS.inc()
            first = False
            if self._permit is not None:
                await self._permit()
            try:
                opened_at = await self._session(connection)
            except (TimeoutError, OSError, WebSocketException) as error:
                logger.warning("stream connection %s lost: %s", connection.index, error)
                opened_at = None
            finally:
                connection.socket = None
                connection.opened_at = None
            if opened_at is not None and time.monotonic() - opened_at > 60:
                delay = self.config.backoff_initial  # it was healthy: start over

    async def _session(self, connection: _Connection) -> float:
        streams = sorted(connection.streams)
        url = (
            f"{self.stream_url}/stream?streams={'/'.join(streams)}"
            if streams
            else (f"{self.stream_url}/stream")
        )
        async with connect(url, compression="deflate", open_timeout=10, max_size=2**22) as socket:
            opened_at = time.monotonic()
            connection.socket = socket
            connection.opened_at = opened_at
            self.connected.set()
            await self._catch_up(streams)
            while not self._stopping.is_set():
                if time.monotonic() - opened_at > self.config.max_connection_age:
                    return opened_at  # rotate: reconnect before the exchange cuts us off
                try:
                    raw = await asyncio.wait_for(socket.recv(), self.config.stall_seconds)
                except TimeoutError:
                    STREAM_STALLS.inc()
                    logger.warning("stream connection %s stalled", connection.index)
                    return opened_at
                self._enqueue(raw)
        return opened_at

    async def _send_control(self, connection: _Connection, method: str, streams: list[str]):
        for message in control_messages(method, streams, connection.next_id):
            connection.next_id += 1
            wait = connection.pacer.delay(time.monotonic())
            if wait:
                await asyncio.sleep(wait)
            connection.pacer.record(time.monotonic())
            await connection.socket.send(json.dumps(message))

    # --- delivery ----------------------------------------------------------------
    def _enqueue(self, raw) -> None:
        try:
            self._queue.put_nowait(raw)
        except asyncio.QueueFull:
            # Never block the read loop: the kline tracker recovers drops from REST.
            STREAM_MESSAGES_DROPPED.inc()
            self._dropped += 1
            self._lost_messages = True
            now = time.monotonic()
            if now - self._last_drop_alert >= self.config.drop_alert_interval:
                self._last_drop_alert = now
                asyncio.get_running_loop().create_task(self._alert_slow_consumer())

    async def _alert_slow_consumer(self) -> None:
        from asgiref.sync import sync_to_async

        from apps.monitoring.alerts import raise_alert

        try:
            await sync_to_async(raise_alert)(
                "warning",
                "streams.slow_consumer",
                "Market-data messages are being dropped: the consumer is slower than the "
                "streams (closed klines are recovered from REST).",
                dropped=self._dropped,
                queue_size=self.config.queue_size,
            )
        except Exception:
            logger.exception("could not record the slow-consumer alert")

    async def _consume(self) -> None:
        while True:
            raw = await self._queue.get()
            try:
                await self._dispatch(json.loads(raw))
                if self._lost_messages and self._queue.empty():
                    # Caught up after drops: a dropped closed kline may have no
                    # successor yet to reveal the gap, so backfill now.
                    self._lost_messages = False
                    await self._catch_up(sorted(self._kline_streams))
            except Exception:
                logger.exception("stream message handler failed")

    async def _dispatch(self, message: dict) -> None:
        stream, data = message.get("stream"), message.get("data")
        if stream is None or not isinstance(data, dict):
            return  # control replies ({"result": null, "id": n})
        if data.get("e") == "kline":
            kline = data["k"]
            if kline.get("x"):
                await self._closed_kline(kline["s"], kline["i"], kline_row(kline))
                return
            await self._closed_before_open(kline["s"], kline["i"], int(kline["t"]))
        if self._on_event is not None:
            await self._on_event(stream, data)

    async def _closed_kline(self, symbol: str, interval: str, row: list) -> None:
        async with self._delivery_lock:
            open_time = int(row[0])
            known = self.tracker.last_open.get((symbol, interval))
            if known is not None and open_time <= known:
                return  # already delivered (a backfill got there first)
            gap = self.tracker.missing_before(symbol, interval, open_time)
            if gap:
                await self._deliver_backfill(symbol, interval, *gap)
            self.tracker.record(symbol, interval, open_time)
            await self._on_closed_kline(symbol, interval, row)

    async def _closed_before_open(self, symbol: str, interval: str, open_time: int) -> None:
        """The kline opened at `open_time` is updating: deliver any earlier one whose
        close never arrived. Checked without the lock first (the common case is no gap);
        a gap REST could not fill is retried after `gap_retry_seconds`, not per update."""
        key = (symbol, interval)
        if not self.tracker.missing_before(symbol, interval, open_time):
            return
        if time.monotonic() < self._gap_retry_at.get(key, float("-inf")):
            return
        async with self._delivery_lock:
            gap = self.tracker.missing_before(symbol, interval, open_time)
            if gap:
                self._gap_retry_at[key] = time.monotonic() + self.config.gap_retry_seconds
                try:
                    await self._deliver_backfill(symbol, interval, *gap)
                except Exception:  # the update itself still goes on to its handler
                    logger.exception("backfill of %s %s %s failed", symbol, interval, gap)

    async def _catch_up(self, streams: list[str]) -> None:
        """After a (re)connect: every kline that closed while we were away (and surely
        closed: see `catch_up_margin_ms`)."""
        now = self._clock() - self.config.catch_up_margin_ms
        for stream in streams:
            parsed = self._kline_streams.get(stream)
            if not parsed:
                continue
            symbol, interval = parsed
            async with self._delivery_lock:
                gap = self.tracker.missing_until(symbol.upper(), interval, now)
                if gap:
                    await self._deliver_backfill(symbol.upper(), interval, *gap)

    async def _deliver_backfill(self, symbol: str, interval: str, first: int, last: int):
        rows = await asyncio.to_thread(self._backfill, symbol, interval, first, last)
        for row in rows:
            open_time = int(row[0])
            known = self.tracker.last_open.get((symbol, interval))
            if known is not None and open_time <= known:
                continue
            self.tracker.record(symbol, interval, open_time)
            await self._on_closed_kline(symbol, interval, row)


def _parse_kline_stream(stream: str) -> tuple[str, str] | None:
    symbol, _, kind = stream.partition("@")
    if not kind.startswith("kline_"):
        return None
    return symbol, kind.removeprefix("kline_")


def connection_attempt_permit(redis_client, egress: str):
    """A `connection_permit` that spends one of the egress IP's WebSocket connection
    attempts (300 per 5 minutes on Binance, shared by every process through Redis)."""
    from ..limiter import ConnectionAttemptLimiter

    limiter = ConnectionAttemptLimiter(redis_client, egress)

    async def permit() -> None:
        await limiter.acquire_async(1)

    return permit
