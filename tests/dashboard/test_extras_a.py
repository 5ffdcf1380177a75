"""Dashboard extras, part A: the exposure heat map and the exports (CSV, XLSX, PDF, and
the background job of a large one), through Django's test client and the real Redis."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from openpyxl import load_workbook

from apps.audit.models import AuditEvent
from apps.dashboard import export_jobs, heatmap
from apps.trading.models import Fill, Order, Trade
from tests.accounts.factories import make_org, member, otp_login
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db

OVERVIEW = "/dashboard/"


def at(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def export_url(account, kind: str, fmt: str) -> str:
    return f"/dashboard/accounts/{account.pk}/export/{kind}.{fmt}"


@pytest.fixture
def desk(redis_client):
    """Two accounts of ours (a trader and a viewer see both), one of another organization."""
    sync_default_symbols()
    ours, theirs = make_org("Ours"), make_org("Theirs")
    return {
        "a": active_account(ours, name="Desk A"),
        "b": active_account(ours, name="Desk B"),
        "other": active_account(theirs, name="Their desk"),
        "trader": member(ours, "trader"),
        "viewer": member(ours, "viewer"),
        "stranger": member(theirs, "trader"),
    }


@pytest.fixture
def trader_client(client, desk):
    otp_login(client, desk["trader"])
    return client


def _day_hour(days_ago: int, hour: int) -> datetime:
    day = timezone.now().astimezone(UTC) - timedelta(days=days_ago)
    return day.replace(hour=hour, minute=7, second=0, microsecond=0)


@pytest.fixture
def activity(desk):
    """Crafted fills (no fees, quote rate 1) whose heat map is computed by hand below."""
    a, b, other = desk["a"], desk["b"], desk["other"]
    a_btc, a_eth = make_config(a), make_config(a, symbols=("ETHUSDT",))
    b_btc, b_eth = make_config(b), make_config(b, symbols=("ETHUSDT",))
    # A: BTC 0.5 @ 100 at 03h, ETH 2 @ 10 at 03h; a pyramid BTC 0.25 @ 120 at 03h.
    fill(order_for(a_btc, quantity="0.5"), price="100", quantity="0.5",
         time_ms=at(_day_hour(2, 3)))  # fmt: skip
    fill(order_for(a_eth, symbol="ETHUSDT", quantity="2"), price="10", quantity="2",
         time_ms=at(_day_hour(3, 3)))  # fmt: skip
    fill(order_for(a_btc, quantity="0.25", intent="pyramid"), price="120", quantity="0.25",
         time_ms=at(_day_hour(1, 3)))  # fmt: skip
    # B: BTC 1 @ 200 at 15h; an ETH round trip (bought 20h, sold 21h): closed, no exposure.
    fill(order_for(b_btc, quantity="1"), price="200", quantity="1",
         time_ms=at(_day_hour(5, 15)))  # fmt: skip
    fill(order_for(b_eth, symbol="ETHUSDT", quantity="1"), price="10", quantity="1",
         time_ms=at(_day_hour(4, 20)))  # fmt: skip
    fill(order_for(b_eth, symbol="ETHUSDT", side="SELL", quantity="1", intent="exit"),
         price="12", quantity="1", time_ms=at(_day_hour(4, 21)))  # fmt: skip
    # B, 40 days ago at 07h: open exposure, but outside the hour-of-day window.
    fill(order_for(b_btc, quantity="0.1"), price="50", quantity="0.1",
         time_ms=at(_day_hour(40, 7)))  # fmt: skip
    # Another organization's fills: never in our heat map.
    fill(order_for(make_config(other), quantity="5"), price="100", quantity="5",
         time_ms=at(_day_hour(2, 3)))  # fmt: skip


# --- heat map ---------------------------------------------------------------------------


def test_the_heat_map_equals_a_hand_computation(desk, activity):
    a, b = desk["a"], desk["b"]
    result = heatmap.build([a, b], now=timezone.now())

    rows = {(row.asset, row.quote_asset): row for row in result.assets}
    assert set(rows) == {("BTC", "USDT"), ("ETH", "USDT")}
    btc, eth = rows[("BTC", "USDT")], rows[("ETH", "USDT")]
    # BTC: A 0.5*100 + 0.25*120 = 80; B 1*200 + 0.1*50 = 205; total 285.
    assert [c.value for c in btc.by_account] == [D("80"), D("205")]
    assert btc.total.value == D("285")
    assert btc.quantity == D("1.85")
    # ETH: A 2*10 = 20; B's round trip is closed.
    assert eth.by_account[0].value == D("20")
    assert eth.by_account[1] is None
    assert eth.total.value == D("20")
    assert [row.asset for row in result.assets] == ["BTC", "ETH"]  # largest first
    assert btc.total.heat == D("1")
    assert eth.total.heat == (D("20") / D("285")).quantize(D("0.001"))
    assert btc.by_account[1].heat == D("1")
    assert btc.by_account[0].heat == (D("80") / D("205")).quantize(D("0.001"))

    hours = {cell.hour: cell for cell in result.hours}
    assert len(result.hours) == 24
    # 03h: three entry fills of A (the pyramid included): 50 + 20 + 30 = 100 traded.
    assert (hours[3].fills, hours[3].traded_value) == (3, D("100"))
    assert (hours[15].fills, hours[15].traded_value) == (1, D("200"))
    assert (hours[20].fills, hours[20].traded_value) == (1, D("10"))
    assert hours[21].fills == 0  # an exit is not an entry
    assert hours[7].fills == 0  # 40 days ago: outside the window
    assert hours[3].heat == D("1")
    assert hours[15].heat == D("0.333")
    assert sum(cell.fills for cell in result.hours) == 5


def test_the_overview_draws_the_heat_map_of_the_users_accounts_only(trader_client, activity):
    html = trader_client.get(OVERVIEW).content.decode()
    assert 'id="heatmap"' in html
    assert 'data-asset="BTC"' in html
    assert 'data-value="285"' in html
    assert 'data-hour="3" data-fills="3" data-value="100"' in html
    assert "Their desk" not in html  # not a column of ours
    # The other organization's 5 BTC would make the total 785.
    assert 'data-value="785"' not in html


def test_a_user_without_positions_sees_an_empty_heat_map(client, desk):
    otp_login(client, desk["stranger"])
    html = client.get(OVERVIEW).content.decode()
    assert 'id="heatmap-assets-empty"' in html
    assert html.count('data-fills="0"') == 24


# --- exports ----------------------------------------------------------------------------


def test_exports_need_a_verified_session_and_are_scoped_like_the_pages(client, desk):
    url = export_url(desk["a"], "fills", "csv")
    assert client.get(url).status_code == 302  # anonymous: sent to log in
    client.force_login(desk["trader"])  # no second factor in this session
    assert client.get(url).status_code == 302
    otp_login(client, desk["stranger"])
    assert client.get(url).status_code == 404  # another organization's account
    assert AuditEvent.objects.filter(action="dashboard.export").count() == 0


def test_bad_kinds_and_formats_are_refused_naming_the_field(trader_client, desk):
    response = trader_client.get(export_url(desk["a"], "balances", "csv"))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"kind": ["must be one of trades, orders, fills"]}
    response = trader_client.get(export_url(desk["a"], "fills", "docx"))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["format"]
    assert AuditEvent.objects.filter(action="dashboard.export").count() == 0


def test_a_viewer_exports_the_accounts_fills_as_csv_audited(client, desk, activity):
    otp_login(client, desk["viewer"])
    response = client.get(export_url(desk["a"], "fills", "csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="fills-account-' in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0][:4] == ["id", "executed_at", "symbol", "side"]
    expected = list(
        Fill.objects.filter(account=desk["a"])
        .order_by("executed_at", "pk")
        .values_list("pk", "price", "quantity")
    )
    assert [(int(r[0]), D(r[6]), D(r[7])) for r in table[1:]] == expected
    assert len(table) == 1 + 3  # account A's fills only
    event = AuditEvent.objects.get(action="dashboard.export")
    assert event.actor_id == desk["viewer"].pk
    assert event.organization_id == desk["a"].organization_id
    assert event.changes["kind"] == "fills"
    assert event.changes["format"] == "csv"
    assert event.changes["rows"] == 3


def test_order_cells_are_spreadsheet_safe(trader_client, desk):
    config = make_config(desk["a"])
    order = order_for(config, quantity="1")
    Order.objects.filter(pk=order.pk).update(status_reason='=HYPERLINK("http://x")')
    response = trader_client.get(export_url(desk["a"], "orders", "csv"))
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    reason = table[1][table[0].index("status_reason")]
    assert reason == '\'=HYPERLINK("http://x")'
    assert table[1][table[0].index("quantity")] == "1"


def _closed_trade(account):
    config = make_config(account)
    fill(order_for(config, quantity="1"), price="100", quantity="1")
    fill(order_for(config, side="SELL", quantity="1", intent="exit"), price="90", quantity="1")
    return Trade.objects.get(account=account)


def test_trades_export_as_xlsx_with_exact_figures(trader_client, desk):
    trade = _closed_trade(desk["a"])
    _closed_trade(desk["other"])  # not ours
    response = trader_client.get(export_url(desk["a"], "trades", "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, rows = values[0], values[1:]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert int(row["id"]) == trade.pk
    assert row["symbol"] == "BTCUSDT"
    assert D(row["realized_pnl"]) == trade.realized_pnl == D("-10")
    assert row["realized_pnl"] == "-10"  # a number, not a defused formula


def test_trades_export_as_pdf(trader_client, desk):
    _closed_trade(desk["a"])
    response = trader_client.get(export_url(desk["a"], "trades", "pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"%%EOF" in response.content[-64:]


@override_settings(DASHBOARD_EXPORT_BACKGROUND_ROWS=2)
def test_a_large_export_runs_in_the_background_with_progress(
    trader_client, desk, activity, tmp_path, django_capture_on_commit_callbacks
):
    with override_settings(VAR_DIR=tmp_path):
        with django_capture_on_commit_callbacks(execute=False) as sent:
            response = trader_client.get(export_url(desk["a"], "fills", "xlsx"))
        assert response.status_code == 202
        job = response.json()
        assert job["rows"] == 3
        assert len(sent) == 1
        status = trader_client.get(job["status_url"]).json()
        assert (status["status"], status["done"], status["total"]) == ("queued", 0, 3)
        assert trader_client.get(job["download_url"]).status_code == 404  # not ready yet

        # Another member of the organization may not read this user's job.
        viewer = Client()
        otp_login(viewer, desk["viewer"])
        assert viewer.get(job["status_url"]).status_code == 404

        assert export_jobs.run(job["job"]) == "done"  # the task's body
        assert export_jobs.run(job["job"]) == "done"  # re-delivered: left alone
        status = trader_client.get(job["status_url"]).json()
        assert (status["status"], status["done"]) == ("done", 3)
        download = trader_client.get(job["download_url"])
        assert download.status_code == 200
        assert viewer.get(job["download_url"]).status_code == 404
        body = b"".join(download.streaming_content)
        sheet = load_workbook(io.BytesIO(body)).active
        assert sheet.max_row == 4  # header + account A's three fills
        assert list((tmp_path / "exports").iterdir()) == [
            tmp_path / "exports" / f"{job['job']}.xlsx"
        ]
    assert AuditEvent.objects.get(action="dashboard.export").changes["job"] == job["job"]
