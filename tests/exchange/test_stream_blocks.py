"""Local order book (snapshot + diffs, resync on gaps) and closed-kline gap backfill."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.exchange.streams.kline_gaps import (
    INTERVAL_MS,
    ClosedKlineTracker,
    backfill_closed_klines,
)
from apps.exchange.streams.order_book import DepthEvent, LocalOrderBook

prices = st.integers(1, 40).map(lambda n: Decimal(n) / 4)
quantities = st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("1.25"), Decimal(3)])
updates = st.lists(st.tuples(st.booleans(), prices, quantities), min_size=1, max_size=4)


def _exchange_history(batches):
    """The exchange's own book after each event, and the events as it publishes them."""
    book = {"bids": {}, "asks": {}}
    states, events = [], []
    next_id = 100
    for batch in batches:
        bids, asks = [], []
        for is_bid, price, quantity in batch:
            side = book["bids"] if is_bid else book["asks"]
            (bids if is_bid else asks).append((price, quantity))
            if quantity == 0:
                side.pop(price, None)
            else:
                side[price] = quantity
        events.append(DepthEvent(next_id, next_id + len(batch) - 1, bids, asks))
        next_id += len(batch)
        states.append({"bids": dict(book["bids"]), "asks": dict(book["asks"]), "id": next_id - 1})
    return states, events


def _snapshot(state):
    return {
        "lastUpdateId": state["id"],
        "bids": [[str(p), str(q)] for p, q in state["bids"].items()],
        "asks": [[str(p), str(q)] for p, q in state["asks"].items()],
    }


@settings(max_examples=200, deadline=None)
@given(st.lists(updates, min_size=2, max_size=30), st.data())
def test_snapshot_plus_diffs_equals_the_exchange_book(batches, data):
    states, events = _exchange_history(batches)
    # The snapshot is taken while events stream in: some arrive before it, some after.
    snapshot_at = data.draw(st.integers(0, len(events) - 1))
    streamed_before = data.draw(st.integers(0, snapshot_at + 1))
    book = LocalOrderBook("BTCUSDT")
    for event in events[:streamed_before]:
        book.on_event(event)
    # Events between what was streamed and the snapshot are buffered too.
    for event in events[streamed_before : snapshot_at + 1]:
        book.on_event(event)
    assert book.on_snapshot(_snapshot(states[snapshot_at]))
    for event in events[snapshot_at + 1 :]:
        assert book.on_event(event)
    assert book.bids == states[-1]["bids"]
    assert book.asks == states[-1]["asks"]


def test_a_sequence_gap_forces_a_resync():
    batches = [[(True, Decimal(i), Decimal(1))] for i in range(1, 8)]
    states, events = _exchange_history(batches)
    book = LocalOrderBook("BTCUSDT")
    assert book.on_snapshot(_snapshot(states[1]))
    assert book.on_event(events[2])
    assert not book.on_event(events[4])  # events[3] was lost
    assert not book.synced
    assert book.resyncs == 1
    for event in events[5:]:
        book.on_event(event)
    # A snapshot older than the buffered events is refused: take another.
    assert not book.on_snapshot(_snapshot(states[2]))
    assert book.on_snapshot(_snapshot(states[5]))
    assert book.bids == states[-1]["bids"]


def test_tracker_finds_skipped_and_since_reconnect_ranges():
    tracker = ClosedKlineTracker()
    minute = INTERVAL_MS["1m"]
    tracker.record("BTCUSDT", "1m", 10 * minute)
    assert tracker.missing_before("BTCUSDT", "1m", 11 * minute) is None
    assert tracker.missing_before("BTCUSDT", "1m", 14 * minute) == (11 * minute, 13 * minute)
    assert tracker.missing_until("BTCUSDT", "1m", 15 * minute + 5) == (11 * minute, 14 * minute)


def test_backfill_returns_exactly_the_missed_closed_klines(paper_url, make_gateway):
    gateway = make_gateway()
    reference = gateway.klines("BTCUSDT", "1m", limit=30)
    closed = reference[:-1]  # the last one is still open
    seen_until, arrived = int(closed[5][0]), int(closed[20][0])
    tracker = ClosedKlineTracker()
    tracker.record("BTCUSDT", "1m", seen_until)
    first, last = tracker.missing_before("BTCUSDT", "1m", arrived)
    filled = backfill_closed_klines(gateway, "BTCUSDT", "1m", first, last)
    assert [k[0] for k in filled] == [k[0] for k in closed[6:20]]
    assert filled == closed[6:20]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 8),
    st.lists(
        st.tuples(st.booleans(), st.lists(st.integers(0, 60), max_size=12)),
        max_size=25,
    ),
)
def test_stream_plan_places_each_stream_once_within_the_cap(per_connection, operations):
    from apps.exchange.streams.plan import StreamPlan

    plan = StreamPlan(per_connection=per_connection)
    wanted: set[str] = set()
    for adding, numbers in operations:
        names = [f"s{n}@kline_1m" for n in numbers]
        if adding:
            plan.add(names)
            wanted |= set(names)
        else:
            plan.remove(names)
            wanted -= set(names)
        placed = [s for conn in plan.connections for s in conn]
        assert sorted(placed) == sorted(wanted)  # each wanted stream exactly once
        assert all(len(conn) <= per_connection for conn in plan.connections)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats(0, 0.5), min_size=1, max_size=60))
def test_pacer_never_allows_more_than_five_messages_a_second(gaps):
    from apps.exchange.streams.plan import MessagePacer

    pacer, now, sent = MessagePacer(), 0.0, []
    for gap in gaps:
        now += gap
        now += pacer.delay(now)
        pacer.record(now)
        sent.append(now)
    for index, at in enumerate(sent):
        assert sum(1 for other in sent[index:] if other - at < 1.0 - 1e-9) <= 5


def test_control_messages_are_batched():
    from apps.exchange.streams.plan import control_messages

    messages = control_messages("SUBSCRIBE", [f"s{i}" for i in range(250)], first_id=7)
    assert [len(m["params"]) for m in messages] == [100, 100, 50]
    assert [m["id"] for m in messages] == [7, 8, 9]
