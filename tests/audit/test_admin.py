"""Read-only audit views with filters, and audited CSV/XLSX exports."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from tests.accounts.factories import make_account, make_org, make_user, member, otp_login

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/audit/auditevent/"


@pytest.fixture
def orgs():
    a, b = make_org("Audit Alpha"), make_org("Audit Bravo")
    member(a, "admin", username="alpha-admin")
    member(b, "admin", username="bravo-admin")
    make_account(a, name="alpha-account")
    make_account(b, name="bravo-account")
    record_event(action="test.formula", organization_id=a.pk, changes={"note": "=HYPERLINK(1)"})
    return a, b


@pytest.fixture
def compliance(client):
    user = make_user("compliance-officer", staff=True)
    user.groups.add(Group.objects.get(name="compliance"))
    otp_login(client, user)
    return user


def test_compliance_sees_every_chain_read_only(client, orgs, compliance):
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    body = page.content.decode()
    assert "alpha-admin" in body
    assert "bravo-admin" in body
    event = AuditEvent.objects.filter(organization_id=orgs[0].pk).first()
    detail = client.get(f"{CHANGELIST}{event.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{event.pk}/delete/").status_code == 403


def test_filters_by_organization_action_and_period(client, orgs, compliance):
    a, _b = orgs
    by_org = client.get(CHANGELIST, {"organization": a.pk}).content.decode()
    assert 'field-actor_username">alpha-admin<' in by_org
    assert 'field-actor_username">bravo-admin<' not in by_org
    by_action = client.get(CHANGELIST, {"action": "test.formula"}).content.decode()
    assert 'field-action">test.formula<' in by_action
    assert 'field-action">exchange_account.created<' not in by_action
    by_actor = client.get(CHANGELIST, {"actor": "bravo-admin"}).content.decode()
    assert 'field-actor_username">bravo-admin<' in by_actor
    assert 'field-actor_username">alpha-admin<' not in by_actor
    assert client.get(CHANGELIST, {"period": "1d"}).status_code == 200
    assert "alpha-admin" in client.get(CHANGELIST, {"q": "alpha-admin"}).content.decode()


def _export(client, action, queryset):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [e.pk for e in queryset]})


def test_csv_export_is_complete_safe_for_spreadsheets_and_audited(client, orgs, compliance):
    a, _ = orgs
    selected = AuditEvent.objects.filter(organization_id=a.pk)
    response = _export(client, "export_csv", selected)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == selected.count()
    assert {r["organization_id"] for r in rows} == {str(a.pk)}
    formula = next(r for r in rows if r["action"] == "test.formula")
    assert not formula["changes"].startswith("=")
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor_username == "compliance-officer"
    assert exported.changes["format"] == "csv"
    assert exported.changes["rows"] == len(rows)


def test_xlsx_export(client, orgs, compliance):
    selected = AuditEvent.objects.filter(organization_id=orgs[1].pk)
    response = _export(client, "export_xlsx", selected)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "occurred_at"
    assert len(values) == selected.count() + 1
    assert AuditEvent.objects.filter(action="audit.exported", changes__format="xlsx").exists()


def test_staff_without_the_export_permission_cannot_export(client, orgs):
    viewer = make_user(staff=True)
    viewer.user_permissions.add(
        *Group.objects.get(name="compliance").permissions.exclude(codename="export_auditevent")
    )
    otp_login(client, viewer)
    response = _export(client, "export_csv", AuditEvent.objects.all())
    assert not response.get("Content-Type", "").startswith("text/csv")
    assert not AuditEvent.objects.filter(action="audit.exported").exists()
