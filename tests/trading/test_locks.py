"""The per-account lock and the trigger guard against real Redis, with threads and
processes contending."""

import multiprocessing
import threading
import time

import pytest
import redis as redis_lib
from django.conf import settings

from apps.trading.locks import AccountBusy, AccountLock, Claim, TriggerGuard

ROUNDS = 30


def _critical_sections(url: str, account_id: int, rounds: int, errors) -> None:
    """Read-modify-write a counter under the lock, and mark the section as occupied:
    without mutual exclusion increments get lost and the marker is found taken."""
    client = redis_lib.Redis.from_url(url, decode_responses=True)
    for _ in range(rounds):
        with AccountLock(client, account_id, ttl=5, wait=30):
            if not client.set("inside", "1", nx=True):
                errors.append("two holders at once")
            value = int(client.get("counter") or 0)
            time.sleep(0.001)
            client.set("counter", value + 1)
            client.delete("inside")


def _process_worker(url, account_id, rounds, overlaps):
    errors = []
    _critical_sections(url, account_id, rounds, errors)
    overlaps.put(len(errors))


def test_threads_never_hold_one_accounts_lock_together(redis_client):
    errors: list[str] = []
    threads = [
        threading.Thread(target=_critical_sections, args=(settings.REDIS_URL, 7, ROUNDS, errors))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert int(redis_client.get("counter")) == 4 * ROUNDS


def test_processes_never_hold_one_accounts_lock_together(redis_client):
    context = multiprocessing.get_context("fork")
    overlaps = context.Queue()
    processes = [
        context.Process(target=_process_worker, args=(settings.REDIS_URL, 8, ROUNDS, overlaps))
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert [overlaps.get(timeout=5) for _ in processes] == [0, 0, 0]
    assert int(redis_client.get("counter")) == 3 * ROUNDS


def test_other_accounts_are_not_blocked(redis_client):
    with AccountLock(redis_client, 1, wait=0):
        with AccountLock(redis_client, 2, wait=0) as other:
            assert other.held
        with pytest.raises(AccountBusy):
            AccountLock(redis_client, 1, wait=0.05).__enter__()


def test_a_dead_holders_lock_expires_and_a_live_holder_keeps_it(redis_client):
    dead = AccountLock(redis_client, 3, ttl=0.3, wait=0)
    assert dead.acquire()
    dead._stop.set()  # the holder "dies": no more renewals
    dead._renewer.join()
    successor = AccountLock(redis_client, 3, ttl=0.3, wait=2)
    assert successor.acquire()  # after the TTL ran out
    # The dead holder cannot release its successor's lock.
    dead.release()
    assert successor.held
    time.sleep(0.8)  # longer than the TTL: background renewal keeps it
    assert successor.held
    successor.release()
    assert redis_client.get(successor.key) is None


def test_a_trigger_is_handled_once_per_account(redis_client):
    guard = TriggerGuard(redis_client, max_age=120)
    now = 1_700_000_100_000
    trigger = "fp:BTCUSDT:1h:1700000000000"
    assert guard.claim(1, trigger, now - 1000, now_ms=now) is Claim.CLAIMED
    assert guard.claim(1, trigger, now - 1000, now_ms=now) is Claim.IN_PROGRESS
    assert guard.claim(2, trigger, now - 1000, now_ms=now) is Claim.CLAIMED  # another account
    guard.complete(1, trigger)
    assert guard.claim(1, trigger, now - 1000, now_ms=now) is Claim.DONE
    guard.abandon(2, trigger)  # failed before any effect: may be retried
    assert guard.claim(2, trigger, now - 1000, now_ms=now) is Claim.CLAIMED
    # A claim whose worker died (its "running" expired, never completed nor abandoned)
    # is retaken, and says so: the retaker checks whether the work got done.
    redis_client.delete(TriggerGuard.key(2, trigger))
    assert guard.claim(2, trigger, now - 1000, now_ms=now) is Claim.RETAKEN


def test_a_stale_trigger_is_refused(redis_client):
    guard = TriggerGuard(redis_client, max_age=120)
    now = 1_700_000_100_000
    assert guard.claim(1, "late", now - 121_000, now_ms=now) is Claim.STALE
    assert guard.claim(1, "fresh", now - 119_000, now_ms=now) is Claim.CLAIMED


def test_exactly_one_of_many_contenders_claims_a_trigger(redis_client):
    guard = TriggerGuard(redis_client, max_age=120)
    now = int(time.time() * 1000)
    results: list[Claim] = []
    barrier = threading.Barrier(8)

    def contend():
        barrier.wait()
        results.append(guard.claim(5, "candle", now))

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(Claim.CLAIMED) == 1
