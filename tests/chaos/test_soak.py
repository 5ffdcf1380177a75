"""The seeded soak (issue 13): paper accounts with several strategies each, market
minutes replayed through the paper exchange's test clock, the exchange injecting 5xx,
unknown-status orders, latency, 429 bursts, stream drops and a maintenance window, and
the worker, the streams process and beat killed (SIGKILL) and restarted on a seeded
schedule. Then every invariant of apps/trading/invariants.py must hold.

Size by environment: SOAK_ACCOUNTS, SOAK_STRATEGIES, SOAK_MINUTES, SOAK_SEED for the
full soak (`make test-chaos`); SOAK_SHORT_* for the short run inside `make test`."""

import pytest

from .schedule import (
    FAULT_KINDS,
    OPENING_BURSTS,
    OPENING_WINDOW,
    ORDER_FAULTS,
    PROCESSES,
    SoakSize,
    make_schedule,
    order_minutes,
)


def test_the_same_seed_gives_the_same_schedule_and_every_fault_and_process_is_in_it():
    size = SoakSize(accounts=3, strategies=3, minutes=120, seed="a")
    schedule = make_schedule(size)
    assert schedule == make_schedule(SoakSize(accounts=50, strategies=3, minutes=120, seed="a"))
    assert schedule != make_schedule(SoakSize(accounts=3, strategies=3, minutes=120, seed="b"))
    for minutes in (6, 120):
        planned = make_schedule(SoakSize(accounts=1, strategies=1, minutes=minutes, seed="a"))
        kinds = {kind for kinds in planned.faults.values() for kind in kinds}
        assert kinds == set(FAULT_KINDS)
        assert {kill.process for kill in planned.kills} == set(PROCESSES)
        assert all(kill.minute + kill.down_minutes < minutes - 1 for kill in planned.kills)
        # Faults that only bite orders are on from the opening entries' minute.
        opening = range(order_minutes(minutes)[0], minutes - 1)[:OPENING_WINDOW]
        for kind in ORDER_FAULTS:
            hit = {minute for minute, kinds in planned.faults.items() if kind in kinds}
            assert set(opening) <= hit, (kind, sorted(hit))
        for kind in OPENING_BURSTS:  # stacked on them
            hit = {minute for minute, kinds in planned.faults.items() if kind in kinds}
            assert opening[0] in hit, (kind, sorted(hit))


def _assert_sound(report, size):
    assert report.ok, report.summary()
    assert set(report.kills) == set(PROCESSES), report.summary()
    assert report.expected_decisions >= size.accounts * size.strategies  # the first candle
    assert report.totals["decisions"] >= report.expected_decisions


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(600)
def test_a_short_seeded_soak_loses_and_doubles_nothing(run_soak):
    size = SoakSize.from_env("SOAK_SHORT", accounts=3, strategies=3, minutes=6, seed="short-1")
    _assert_sound(run_soak(size), size)


@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(6 * 3600)
def test_the_full_seeded_soak_loses_and_doubles_nothing(run_soak):
    size = SoakSize.from_env("SOAK", accounts=50, strategies=3, minutes=120, seed="soak-1")
    report = run_soak(size)
    _assert_sound(report, size)
    # The soak's risk profile keeps every account trading for the whole run, so each
    # kind of fault meets requests: every one of them bit.
    counted_as = {
        "maintenance": "maintenance (windows)",
        "stream_drop": "stream_drop (connections)",
    }
    for kind in FAULT_KINDS:
        assert report.faults[counted_as.get(kind, kind)] > 0, report.summary()
