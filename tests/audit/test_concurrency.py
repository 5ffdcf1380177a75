"""Concurrent appends: chains never fork, and organizations never wait for each other."""

import threading

import pytest
from django.db import connection, transaction

from apps.audit.models import AuditEvent, chain_for
from apps.audit.services import record_event
from apps.audit.verify import verify_chain

pytestmark = pytest.mark.django_db(transaction=True)

PER_THREAD = 15


def _append(organization_id: int, errors: list, barrier: threading.Barrier) -> None:
    try:
        barrier.wait(timeout=10)
        for i in range(PER_THREAD):
            record_event(
                action="test.concurrent", organization_id=organization_id, changes={"i": i}
            )
    except Exception as exc:  # reported by the test thread
        errors.append(exc)
    finally:
        connection.close()


def test_concurrent_appends_to_two_chains_and_within_one_chain():
    # Two threads per organization: contention on a chain head, none across chains.
    errors: list = []
    barrier = threading.Barrier(4)
    threads = [
        threading.Thread(target=_append, args=(org, errors, barrier)) for org in (1, 1, 2, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for org in (1, 2):
        sequences = list(
            AuditEvent.objects.filter(chain=chain_for(org))
            .order_by("sequence")
            .values_list("sequence", flat=True)
        )
        assert sequences == list(range(1, 2 * PER_THREAD + 1))
        assert verify_chain(chain_for(org)).ok


def test_a_locked_chain_does_not_block_another_organization():
    # Hold organization 1's chain head inside an open transaction in another thread.
    holding = threading.Event()
    release = threading.Event()

    def hold():
        try:
            with transaction.atomic():
                record_event(action="test.hold", organization_id=1)
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # would fail if it had to wait
        event = record_event(action="test.other", organization_id=2)
        assert event.sequence == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
        release.set()
        holder.join(timeout=20)
