"""The market stream supervisor against the paper exchange's real WebSocket streams:
dropped and stalled connections lose no closed kline, and nothing is delivered twice."""

from __future__ import annotations

import asyncio

import pytest
import requests
from asgiref.sync import sync_to_async

from apps.exchange.streams.kline_gaps import INTERVAL_MS, backfill_closed_klines
from apps.exchange.streams.supervisor import (
    MarketStreamSupervisor,
    SupervisorConfig,
    kline_stream,
)
from apps.paper_exchange.server.app import ServerThread
from tests.exchange.support.ws_proxy import StreamFaultProxy
from tests.paper_exchange.conftest import Admin, make_config

MINUTE = INTERVAL_MS["1m"]
SYMBOLS = ("BTCUSDT", "ETHUSDT")


@pytest.fixture(scope="module")
def clocked_exchange():
    server = ServerThread(make_config()).start()
    yield server
    server.stop()


@pytest.fixture
def proxy(clocked_exchange):
    proxy = StreamFaultProxy(clocked_exchange.url.replace("http://", "ws://")).start()
    yield proxy
    proxy.stop()


class Market:
    """Moves the paper exchange's test clock and remembers market time."""

    def __init__(self, server):
        self.admin = Admin(server.url)
        self.url = server.url
        self.now = self.admin.advance(0)

    async def advance(self, ms: int, step: int = MINUTE // 4) -> None:
        for _ in range(ms // step):
            self.now = await asyncio.to_thread(self.admin.advance, step)
            await asyncio.sleep(0.02)  # let the streams flush between steps

    def rest_open_times(self, symbol: str, first: int, last: int) -> list[int]:
        rows = requests.get(
            f"{self.url}/api/v3/klines",
            params={"symbol": symbol, "interval": "1m", "startTime": first, "endTime": last},
            timeout=10,
        ).json()
        return [int(row[0]) for row in rows]


def _slow_consumer_alerts() -> int:
    from django.db import connection

    from apps.monitoring.models import Alert

    try:
        return Alert.objects.filter(event="streams.slow_consumer").count()
    finally:
        connection.close()


def rest_backfill(url: str):
    class Rest:  # the slice of the gateway backfill_closed_klines needs
        def klines(self, symbol, interval, **params):
            params = {"symbol": symbol, "interval": interval, **params}
            return requests.get(f"{url}/api/v3/klines", params=params, timeout=10).json()

    return lambda symbol, interval, first, last: backfill_closed_klines(
        Rest(), symbol, interval, first, last
    )


async def start_supervisor(proxy, market, clock=None, **config):
    delivered: dict[str, list[int]] = {symbol: [] for symbol in SYMBOLS}

    async def on_closed_kline(symbol, interval, row):
        delivered[symbol].append(int(row[0]))

    supervisor = MarketStreamSupervisor(
        proxy.url,
        on_closed_kline=on_closed_kline,
        backfill=rest_backfill(market.url),
        config=SupervisorConfig(backoff_initial=0.05, backoff_max=0.2, **config),
        clock=clock or (lambda: market.now),
    )
    supervisor.start()
    await supervisor.subscribe([kline_stream(symbol, "1m") for symbol in SYMBOLS])
    await asyncio.wait_for(supervisor.connected.wait(), 10)
    return supervisor, delivered


async def settle(delivered, market, timeout: float = 10.0) -> None:
    """Wait until every symbol has the last kline that closed before market.now."""
    last_closed = (market.now // MINUTE) * MINUTE - MINUTE
    deadline = asyncio.get_running_loop().time() + timeout
    while any(not d or d[-1] < last_closed for d in delivered.values()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not delivered up to {last_closed}: {delivered}")
        await asyncio.sleep(0.05)


def assert_complete(delivered, market):
    for symbol, open_times in delivered.items():
        assert len(open_times) == len(set(open_times)), f"{symbol} delivered twice"
        assert open_times == sorted(open_times)
        expected = market.rest_open_times(symbol, open_times[0], open_times[-1])
        assert open_times == expected, f"{symbol} missed closed klines"


async def test_closed_klines_arrive_in_order_for_every_symbol(clocked_exchange, proxy):
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(proxy, market)
    try:
        await market.advance(4 * MINUTE)
        await settle(delivered, market)
        assert all(len(d) >= 3 for d in delivered.values())
        assert_complete(delivered, market)
        assert proxy.connections == 1  # both streams share one combined connection
    finally:
        await supervisor.stop()


async def test_a_dropped_connection_loses_no_closed_kline(clocked_exchange, proxy):
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(proxy, market)
    try:
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        proxy.drop_all()
        await market.advance(5 * MINUTE)  # klines close while nobody listens
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        assert supervisor.reconnects >= 1
        assert_complete(delivered, market)
    finally:
        await supervisor.stop()


async def test_klines_closed_during_an_outage_are_backfilled_on_reconnect(clocked_exchange, proxy):
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(proxy, market)
    try:
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        # Back half-way through a minute, as a live reconnect is: the catch-up leaves the
        # last seconds before "now" to the stream (catch_up_margin_ms), and this market
        # stands still after the reconnect, so no update or close would come.
        await away_until_mid_minute(proxy, market, minutes=5)
        # No kline closes after the reconnect: only the catch-up can fill the gap.
        await settle(delivered, market)
        assert_complete(delivered, market)
    finally:
        await supervisor.stop()


async def away_until_mid_minute(proxy, market, *, minutes: int) -> None:
    """Drop the stream connections and refuse new ones while `minutes` klines close,
    then let them back in half-way through a minute and wait for the reconnect."""
    proxy.refuse()
    proxy.drop_all()
    to_mid_minute = (MINUTE // 2 - market.now % MINUTE) % MINUTE
    if to_mid_minute:
        await market.advance(to_mid_minute, step=to_mid_minute)
    await market.advance(minutes * MINUTE)  # klines close while nobody listens
    await let_back_in(proxy)


async def let_back_in(proxy) -> None:
    """Accept connections again and wait until the supervisor has reconnected."""
    connections = proxy.connections
    proxy.refuse(False)
    deadline = asyncio.get_running_loop().time() + 10
    while proxy.connections == connections:
        assert asyncio.get_running_loop().time() < deadline, "no reconnect"
        await asyncio.sleep(0.05)


async def test_a_close_missed_while_away_is_fetched_on_the_first_update_whatever_the_clock(
    clocked_exchange, proxy
):
    """The catch-up on connect asks the local clock what has closed; here it lags far
    behind the exchange's (a replayed market, a skewed host), so it sees nothing missed.
    The open kline's first update proves the earlier ones closed: they are fetched then,
    not an interval later when the next close would reveal the gap."""
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(proxy, market, clock=lambda: 0)
    try:
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        await away_until_mid_minute(proxy, market, minutes=3)
        await market.advance(10_000, step=5_000)  # updates of the open kline; no close
        assert market.now % MINUTE > MINUTE // 2  # still inside the same minute
        await settle(delivered, market, timeout=5)
        assert_complete(delivered, market)
    finally:
        await supervisor.stop()


async def test_a_clock_a_little_ahead_never_has_an_open_kline_delivered_as_closed(
    clocked_exchange, proxy
):
    """The measured offset is never exact. A clock one second ahead of the exchange's,
    reconnecting half a second before a minute closes, believes that minute closed: the
    catch-up must not fetch it (REST returns the open kline) and deliver it as closed.
    Its close then comes from the stream, or from the open-kline rule."""
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(proxy, market, clock=lambda: market.now + 1_000)
    try:
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        proxy.refuse()
        proxy.drop_all()
        await market.advance(2 * MINUTE)  # two klines close while nobody listens
        to_just_before_close = (MINUTE - 500 - market.now % MINUTE) % MINUTE
        if to_just_before_close:
            await market.advance(to_just_before_close, step=to_just_before_close)
        still_open = (market.now // MINUTE) * MINUTE
        assert market.now + 1_000 >= still_open + MINUTE  # the clock thinks it closed
        await let_back_in(proxy)
        await settle(delivered, market)  # the two missed closes, from the catch-up
        await asyncio.sleep(0.3)
        assert all(still_open not in d for d in delivered.values())
        await market.advance(MINUTE)
        await settle(delivered, market)
        assert all(still_open in d for d in delivered.values())
        assert_complete(delivered, market)
    finally:
        await supervisor.stop()


async def test_a_gap_rest_cannot_fill_is_retried_on_a_timer_not_per_update(clocked_exchange, proxy):
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(
        proxy, market, clock=lambda: 0, gap_retry_seconds=60
    )
    fetch, calls = supervisor._backfill, []

    def failing_once(*gap):
        calls.append(gap)
        if gap[0] == "BTCUSDT" and len([c for c in calls if c[0] == "BTCUSDT"]) == 1:
            raise requests.ConnectionError("exchange unreachable")
        return fetch(*gap)

    supervisor._backfill = failing_once
    try:
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        await away_until_mid_minute(proxy, market, minutes=2)
        await market.advance(20_000, step=2_000)  # ten updates of the open kline
        # BTCUSDT's first fetch failed and its later updates waited for the timer;
        # ETHUSDT's gap was filled at its first update.
        assert [c[0] for c in calls] in (["BTCUSDT", "ETHUSDT"], ["ETHUSDT", "BTCUSDT"])
        assert delivered["ETHUSDT"][-1] == (market.now // MINUTE) * MINUTE - MINUTE
        await market.advance(MINUTE)  # the next close reveals the gap anyway
        await settle(delivered, market)
        assert_complete(delivered, market)
    finally:
        await supervisor.stop()


async def test_a_stalled_connection_is_replaced_and_loses_nothing(clocked_exchange, proxy):
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(proxy, market, stall_seconds=0.5)
    try:
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        proxy.stall()  # open but silent: only the stall timer can notice
        await market.advance(3 * MINUTE)
        await asyncio.sleep(0.8)
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        assert proxy.connections >= 2
        assert_complete(delivered, market)
    finally:
        await supervisor.stop()


async def test_streams_added_at_run_time_are_subscribed_on_the_open_connection(
    clocked_exchange, proxy
):
    market = Market(clocked_exchange)
    supervisor, delivered = await start_supervisor(proxy, market)
    seen = []

    async def on_event(stream, data):
        seen.append(stream)

    supervisor._on_event = on_event
    try:
        await supervisor.subscribe(["bnbusdt@trade"])
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        assert "bnbusdt@trade" in seen
        assert proxy.connections == 1
    finally:
        await supervisor.stop()


@pytest.mark.django_db(transaction=True)
async def test_a_slow_consumer_drops_messages_but_never_a_closed_kline(clocked_exchange, proxy):
    from apps.monitoring.metrics import STREAM_MESSAGES_DROPPED

    market = Market(clocked_exchange)
    dropped_before = STREAM_MESSAGES_DROPPED._value.get()
    supervisor, delivered = await start_supervisor(proxy, market, queue_size=2)
    consumer = supervisor._on_closed_kline

    async def slow(symbol, interval, row):
        await asyncio.sleep(0.05)
        await consumer(symbol, interval, row)

    supervisor._on_closed_kline = slow
    try:
        await market.advance(6 * MINUTE, step=MINUTE // 12)
        await market.advance(MINUTE)
        await settle(delivered, market, timeout=20)
        assert STREAM_MESSAGES_DROPPED._value.get() > dropped_before
        assert_complete(delivered, market)
        alerts = await sync_to_async(_slow_consumer_alerts)()
        assert alerts == 1  # one alert per interval, not one per dropped message
    finally:
        await supervisor.stop()


async def test_every_connection_attempt_spends_the_shared_budget(
    clocked_exchange, proxy, redis_client, egress
):
    from apps.exchange.limiter import ConnectionAttemptLimiter
    from apps.exchange.streams.supervisor import connection_attempt_permit

    market = Market(clocked_exchange)
    delivered = {symbol: [] for symbol in SYMBOLS}

    async def on_closed_kline(symbol, interval, row):
        delivered[symbol].append(int(row[0]))

    supervisor = MarketStreamSupervisor(
        proxy.url,
        on_closed_kline=on_closed_kline,
        backfill=rest_backfill(market.url),
        config=SupervisorConfig(backoff_initial=0.05, backoff_max=0.2),
        connection_permit=connection_attempt_permit(redis_client, egress),
        clock=lambda: market.now,
    )
    supervisor.start()
    try:
        await supervisor.subscribe([kline_stream(symbol, "1m") for symbol in SYMBOLS])
        await asyncio.wait_for(supervisor.connected.wait(), 10)
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        proxy.drop_all()
        await market.advance(2 * MINUTE)
        await settle(delivered, market)
        used = ConnectionAttemptLimiter(redis_client, egress).used("ws-connections:5M")
        assert used >= 2  # the first connection and the reconnect
    finally:
        await supervisor.stop()
