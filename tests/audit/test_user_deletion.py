"""Deleting a user leaves the trail intact and verifiable."""

import pytest
from django.core.management import call_command

from apps.audit.models import AuditEvent
from apps.audit.verify import verify_chains
from tests.accounts.factories import make_account, make_org, member

pytestmark = pytest.mark.django_db


def test_deleting_a_user_keeps_their_events_and_the_chain_verifies(capsys):
    organization = make_org()
    admin = member(organization, "admin", username="leaving-admin")
    make_account(organization)
    events = list(AuditEvent.objects.filter(actor_id=admin.pk).values_list("pk", flat=True))
    assert events, "the account creation was audited under the admin"
    admin_id = admin.pk
    admin.delete()
    kept = AuditEvent.objects.filter(pk__in=events)
    assert kept.count() == len(events)
    assert set(kept.values_list("actor_username", flat=True)) == {"leaving-admin"}
    assert set(kept.values_list("actor_id", flat=True)) == {admin_id}
    assert all(report.ok for report in verify_chains())
    call_command("verify_audit_chain", "--organization", str(organization.pk))
    assert "ok" in capsys.readouterr().out
