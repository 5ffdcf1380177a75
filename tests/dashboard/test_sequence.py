"""The live replay buffer on real Redis: numbering, trimming, age, concurrency."""

import threading

import pytest

from apps.dashboard import sequence

GROUP = "live.account.1"


def test_events_are_numbered_per_group_and_replayed_in_order(redis_client):
    for i in range(3):
        sequence.append(redis_client, GROUP, {"n": i, "ts_ms": 10**13})
    sequence.append(redis_client, "live.account.2", {"n": 9, "ts_ms": 10**13})
    replay = sequence.since(redis_client, GROUP, 1, now_ms=10**13)
    assert not replay.resync
    assert [(e["seq"], e["n"]) for e in replay.events] == [(2, 1), (3, 2)]
    assert replay.latest == 3
    assert sequence.latest(redis_client, "live.account.2") == 1
    assert sequence.since(redis_client, GROUP, 3).events == []


def test_a_client_behind_the_trimmed_buffer_must_resync(redis_client, settings):
    settings.LIVE_REPLAY_EVENTS = 5
    for i in range(8):
        sequence.append(redis_client, GROUP, {"n": i, "ts_ms": 10**13})
    assert redis_client.llen(f"live:buffer:{GROUP}") == 5
    assert sequence.since(redis_client, GROUP, 2, now_ms=10**13).resync  # 3 was trimmed
    kept = sequence.since(redis_client, GROUP, 3, now_ms=10**13)
    assert not kept.resync
    assert [e["seq"] for e in kept.events] == [4, 5, 6, 7, 8]


def test_events_older_than_the_window_are_not_replayed(redis_client, settings):
    settings.LIVE_REPLAY_SECONDS = 600
    now = 10**13
    sequence.append(redis_client, GROUP, {"ts_ms": now - 601_000})
    sequence.append(redis_client, GROUP, {"ts_ms": now - 1_000})
    assert sequence.since(redis_client, GROUP, 0, now_ms=now).resync
    assert [e["seq"] for e in sequence.since(redis_client, GROUP, 1, now_ms=now).events] == [2]


def test_a_number_from_another_epoch_must_resync(redis_client):
    replay = sequence.since(redis_client, GROUP, 5)
    assert replay.resync
    assert replay.latest == 0


def test_concurrent_publishers_store_events_in_sequence_order(redis_client):
    def publish(worker):
        for i in range(50):
            sequence.append(redis_client, GROUP, {"worker": worker, "i": i, "ts_ms": 10**13})

    threads = [threading.Thread(target=publish, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = sequence.since(redis_client, GROUP, 0, now_ms=10**13).events
    assert [e["seq"] for e in events] == list(range(1, 201))
    for worker in range(4):  # each publisher's own events keep their order
        assert [e["i"] for e in events if e["worker"] == worker] == list(range(50))


def test_an_empty_event_is_refused(redis_client):
    with pytest.raises(ValueError, match="at least one field"):
        sequence.append(redis_client, GROUP, {})
