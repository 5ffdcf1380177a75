"""Audit events cannot be changed or removed, through the ORM or in SQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.models import AppendOnlyError, AuditEvent
from apps.audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return record_event(action="test.event", organization_id=1, changes={"a": 1})


def test_orm_refuses_to_save_an_existing_event(event):
    event.action = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_orm_refuses_delete_and_queryset_writes(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'changed' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_postgresql_trigger_rejects_update_and_delete(event, sql):
    assert connection.vendor == "postgresql"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_secrets_in_details_are_redacted_before_they_are_stored():
    stored = record_event(
        action="test.event", changes={"password": "hunter2-hunter2", "note": "ok"}
    )
    assert stored.changes == {"password": "[REDACTED]", "note": "ok"}
