"""Generating a compliance report (audited) and reading its content."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction

from apps.accounts.actors import Actor
from apps.accounts.models import Organization
from apps.accounts.roles import Action
from apps.audit.services import record_event
from apps.core.errors import NotFound, PermissionDenied, ValidationError

from ..models import ComplianceReport
from .data import ReportData, build_report_data

MAX_DAYS = 366


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[first day 00:00 UTC, the day after the last 00:00 UTC)."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def _allowed(actor: Actor, organization: Organization) -> Organization:
    if actor.system:
        return organization
    visible = Organization.objects.for_user(actor.user, Action.VIEW)
    if not visible.filter(pk=organization.pk).exists():
        raise NotFound(f"organization {organization.pk} does not exist")
    found = Organization.objects.for_user(actor.user, Action.RISK).filter(pk=organization.pk)
    if not found.exists():
        raise PermissionDenied("compliance reports need the risk officer or admin role")
    return organization


@transaction.atomic
def generate_report(
    *, actor: Actor, organization: Organization, period_start: date, period_end: date
) -> ComplianceReport:
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise ValidationError("period_start", "must be dates")
    if period_end < period_start:
        raise ValidationError("period_end", "must not be before period_start")
    if (period_end - period_start).days >= MAX_DAYS:
        raise ValidationError("period_end", f"a report covers at most {MAX_DAYS} days")
    organization = _allowed(actor, organization)
    start, end = period_bounds(period_start, period_end)
    data = build_report_data(organization_id=organization.pk, start=start, end=end)
    report = ComplianceReport.objects.create(
        organization=organization,
        period_start=period_start,
        period_end=period_end,
        requested_by=actor.username,
        totals=data.totals(),
    )
    record_event(
        action="compliance.report_generated",
        actor=actor.user,
        organization_id=organization.pk,
        target=report,
        changes={"period": [str(period_start), str(period_end)], "totals": report.totals},
    )
    return report


def report_content(*, actor: Actor, report: ComplianceReport, fmt: str) -> ReportData:
    """The report's content for a download in `fmt` (audited)."""
    _allowed(actor, report.organization)
    start, end = period_bounds(report.period_start, report.period_end)
    record_event(
        action="compliance.report_downloaded",
        actor=actor.user,
        organization_id=report.organization_id,
        target=report,
        changes={"format": fmt},
    )
    return build_report_data(organization_id=report.organization_id, start=start, end=end)
