"""The audit hash chain: links, verification, and tamper detection on PostgreSQL."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.audit.chain import compute_hash
from apps.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, chain_for
from apps.audit.services import record_event
from apps.audit.verify import verify_chain, verify_chains

pytestmark = pytest.mark.django_db


def _events(n: int, organization_id: int | None = 7):
    return [
        record_event(action="test.event", organization_id=organization_id, changes={"n": i})
        for i in range(n)
    ]


def _tamper(sql: str, params) -> None:
    # The append-only trigger stops the application; a database owner can switch it
    # off, which is exactly what the chain must still catch.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def test_each_event_links_to_the_previous_one_of_its_chain():
    first, second, third = _events(3)
    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    head = AuditChainHead.objects.get(chain=chain_for(7))
    assert (head.last_sequence, head.last_hash) == (3, third.hash)


def test_hash_is_reproducible_from_the_stored_row():
    event = _events(1)[0]
    stored = AuditEvent.objects.get(pk=event.pk)
    assert compute_hash(stored) == event.hash


def test_organizations_and_the_platform_have_separate_chains():
    org_event = _events(1, organization_id=1)[0]
    other = _events(1, organization_id=2)[0]
    platform = _events(1, organization_id=None)[0]
    assert {org_event.chain, other.chain, platform.chain} == {"org:1", "org:2", "platform"}
    assert all(e.sequence == 1 for e in (org_event, other, platform))


def test_an_intact_chain_verifies():
    _events(5)
    report = verify_chain(chain_for(7))
    assert report.ok
    assert report.checked == 5


def test_altered_content_is_reported_at_its_sequence():
    events = _events(4)
    _tamper(
        "UPDATE audit_auditevent SET actor_username = %s WHERE id = %s",
        ["mallory", events[2].pk],
    )
    report = verify_chain(chain_for(7))
    assert not report.ok
    assert report.broken_sequence == 3
    assert report.broken_event_id == events[2].pk
    assert "altered" in report.reason


def test_a_removed_event_is_reported():
    events = _events(4)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    report = verify_chain(chain_for(7))
    assert not report.ok
    assert report.broken_sequence == 2


def test_a_removed_tail_is_reported_through_the_chain_head():
    events = _events(3)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    report = verify_chain(chain_for(7))
    assert not report.ok
    assert "removed" in report.reason


def test_a_forged_hash_does_not_hide_an_edit():
    events = _events(3)
    forged = AuditEvent.objects.get(pk=events[0].pk)
    forged.changes = {"n": 999}
    new_hash = compute_hash(forged)
    _tamper(
        "UPDATE audit_auditevent SET changes = %s, hash = %s WHERE id = %s",
        ['{"n": 999}', new_hash, events[0].pk],
    )
    report = verify_chain(chain_for(7))
    assert report.broken_sequence == 2  # the next event still points at the old hash
    assert "previous hash" in report.reason


def test_verify_command_reports_the_first_broken_link_and_fails(capsys):
    events = _events(3, organization_id=11)
    _events(2, organization_id=12)
    _tamper("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["x", events[1].pk])
    with pytest.raises(CommandError):
        call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "org:11: BROKEN at sequence 2" in out
    assert f"event id {events[1].pk}" in out
    assert "org:12: ok (2 events)" in out
    call_command("verify_audit_chain", "--organization", "12")  # the other chain is fine


def test_verification_starts_at_the_recorded_anchor_after_archiving():
    events = _events(4)
    # Archive the first two events: record the last archived link, then remove them.
    AuditChainHead.objects.filter(chain=chain_for(7)).update(
        anchor_sequence=2, anchor_hash=events[1].hash
    )
    _tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [events[0].pk, events[1].pk])
    assert verify_chains(7)[0].ok
