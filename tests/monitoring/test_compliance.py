"""The compliance report: its totals equal the database's, it is role-gated and
audited, and the XLSX and PDF downloads carry the same figures."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.accounts import services as account_services
from apps.accounts.actors import Actor
from apps.audit.models import AuditEvent
from apps.core.errors import NotFound, PermissionDenied, ValidationError
from apps.monitoring.compliance.services import generate_report
from apps.trading.models import Fill, Trade
from apps.trading.services import record_cash_flow
from tests.accounts.factories import make_org, member, otp_login, verified
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db
D = Decimal
NOV_1 = 1_793_491_200_000  # 2026-11-01T00:00:00Z in ms


@pytest.fixture
def traded():
    """One organization with a round trip, a fee in BNB, a deposit and a pause."""
    sync_default_symbols()
    organization = make_org()
    risk = member(organization, "risk_officer")
    account = active_account(organization)
    config = make_config(account)
    buy = order_for(config, side="BUY", quantity="0.5")
    fill(buy, price="60000", quantity="0.3", commission="0.3", trade_id=1, time_ms=NOV_1 + 60_000)
    fill(buy, price="60010", quantity="0.2", commission="0.2", trade_id=2, time_ms=NOV_1 + 61_000)
    sell = order_for(config, side="SELL", quantity="0.5", intent="exit")
    fill(sell, price="61000", quantity="0.5", commission="0.05", asset="BNB", rate="600",
         trade_id=3, time_ms=NOV_1 + 3_600_000)  # fmt: skip
    record_cash_flow(
        account=account, kind="deposit", asset="USDT", amount=D("1000"), value=D("1000"),
        occurred_at=datetime(2026, 11, 2, 10, tzinfo=UTC), external_id="dep-1",
    )  # fmt: skip
    account_services.pause_account(actor=Actor.for_system(), account=account)
    return organization, risk, account


def test_totals_equal_the_database(traded):
    organization, risk, account = traded
    report = generate_report(
        actor=verified(risk), organization=organization,
        period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
    )  # fmt: skip
    fills = Fill.objects.filter(account=account)
    assert report.totals["fills"] == 3
    assert report.totals["orders"] == 2
    assert report.totals["trades"] == Trade.objects.filter(account=account).count() == 1
    assert D(report.totals["quote_volume"]) == sum(f.quote_quantity for f in fills)
    assert D(report.totals["fees_quote"]) == sum(f.commission_quote for f in fills)
    assert D(report.totals["realized_pnl"]) == Trade.objects.get().realized_pnl_value
    assert D(report.totals["net_cash_flows"]) == D("1000")
    assert report.totals["events_halts_and_kill_switches"] == 1  # the pause
    assert AuditEvent.objects.filter(action="compliance.report_generated").count() == 1


def test_a_period_without_activity_is_empty(traded):
    organization, risk, _ = traded
    report = generate_report(
        actor=verified(risk), organization=organization,
        period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
    )  # fmt: skip
    assert report.totals["fills"] == 0
    assert report.totals["net_cash_flows"] == "0"


def test_roles_and_tenancy(traded):
    organization, _, _ = traded
    viewer = member(organization, "viewer")
    with pytest.raises(PermissionDenied):
        generate_report(actor=verified(viewer), organization=organization,
                        period_start=date(2026, 11, 1), period_end=date(2026, 11, 2))  # fmt: skip
    stranger = member(make_org(), "risk_officer")
    with pytest.raises(NotFound):
        generate_report(actor=verified(stranger), organization=organization,
                        period_start=date(2026, 11, 1), period_end=date(2026, 11, 2))  # fmt: skip
    with pytest.raises(ValidationError, match="period_end"):
        generate_report(actor=Actor.for_system(), organization=organization,
                        period_start=date(2026, 11, 2), period_end=date(2026, 11, 1))  # fmt: skip


def test_admin_generates_and_downloads_xlsx_and_pdf(client, traded):
    from openpyxl import load_workbook

    organization, risk, _ = traded
    risk.is_staff = True
    risk.save()
    risk.user_permissions.add(*Permission.objects.filter(content_type__app_label="monitoring"))
    otp_login(client, risk)
    response = client.post(
        reverse("admin:monitoring_compliancereport_add"),
        {"organization": organization.pk, "period_start": "2026-11-01",
         "period_end": "2026-11-30"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    report = organization.compliance_reports.get()
    page = client.get(reverse("admin:monitoring_compliancereport_change", args=[report.pk]))
    assert b"/download/xlsx/" in page.content

    xlsx = client.get(
        reverse("admin:monitoring_compliancereport_download", args=[report.pk, "xlsx"])
    )
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    trading = list(book["Trading"].values)
    header, rows = trading[0], trading[1:]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["symbol"] == "BTCUSDT"
    assert D(row["fees_quote"]) == D(report.totals["fees_quote"])
    assert D(row["realized_pnl"]) == D(report.totals["realized_pnl"])

    pdf = client.get(reverse("admin:monitoring_compliancereport_download", args=[report.pk, "pdf"]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    downloads = AuditEvent.objects.filter(action="compliance.report_downloaded")
    assert sorted(e.changes["format"] for e in downloads) == ["pdf", "xlsx"]
