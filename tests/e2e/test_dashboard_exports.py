"""Dashboard extras in a real browser: exporting trades as XLSX from the account page
(the download captured by Playwright and read with openpyxl), and the opt-in browser
notifications of live fills."""

import pytest
from django.db import connection
from openpyxl import load_workbook

from apps.trading.models import Trade
from tests.accounts.factories import make_org, member, totp_device
from tests.e2e.test_dashboard import _log_in, _off_the_browser_thread, _shot
from tests.trading.support import (
    active_account,
    fill,
    make_config,
    order_for,
    sync_default_symbols,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk():
    def build():
        sync_default_symbols()
        organization = make_org("E2E exports")
        account = active_account(organization, name="Export desk")
        trader = member(organization, "trader", username="trader-e2e")
        config = make_config(account)
        # Two round trips: one win, one loss.
        for buy, sell in (("100", "110"), ("100", "95")):
            fill(order_for(config, quantity="1"), price=buy, quantity="1")
            fill(order_for(config, side="SELL", quantity="1", intent="exit"), price=sell,
                 quantity="1")  # fmt: skip
        return {"account": account, "device": totp_device(trader)}

    built = _off_the_browser_thread(build)
    connection.close()  # the browser's requests run in daphne, on their own connections
    return built


def test_a_trader_exports_trades_as_xlsx(page, daphne_server, desk, tmp_path):
    account = desk["account"]
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    path = f"/dashboard/accounts/{account.pk}/"
    _log_in(page, daphne_server.base_url, path, desk["device"])

    with page.expect_download(timeout=15_000) as started:
        page.click("#export-trades-xlsx")
    download = started.value
    assert download.suggested_filename.startswith(f"trades-account-{account.pk}-")
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    page.wait_for_selector("#export-progress:not([hidden])")
    _shot(page, "export-xlsx")

    sheet = load_workbook(saved).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:2] == ["id", "symbol"]
    exported = {int(row[0]): row[header.index("realized_pnl")] for row in rows}
    expected = {
        pk: str(int(pnl))
        for pk, pnl in Trade.objects.filter(account=account).values_list("pk", "realized_pnl")
    }
    assert exported == expected
    assert sorted(exported.values()) == ["-5", "10"]
    assert errors == []


# Records each notification the page shows (headless Chromium draws none).
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notifications = [];
  function Recorded(title, options) {
    window.__notifications.push({ title: title, body: (options || {}).body });
    try { return new Real(title, options); } catch (e) { return {}; }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""


def test_opted_in_notifications_show_live_fills(page, daphne_server, desk):
    account = desk["account"]
    base = daphne_server.base_url
    page.context.grant_permissions(["notifications"], origin=base)
    page.add_init_script(RECORD_NOTIFICATIONS)
    path = f"/dashboard/accounts/{account.pk}/"
    _log_in(page, base, path, desk["device"])
    page.wait_for_selector('#live-state[data-state="live"]', timeout=10_000)
    toggle = page.locator("#notify-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"  # opt-in: off until asked

    toggle.click()
    page.wait_for_selector('#notify-toggle[aria-pressed="true"]')
    page.reload()  # the choice is remembered for this user
    page.wait_for_selector('#notify-toggle[aria-pressed="true"]')
    page.wait_for_selector('#live-state[data-state="live"]', timeout=10_000)

    def buy():
        config = account.strategy_configs.first()
        fill(order_for(config, quantity="0.5"), price="101", quantity="0.5")

    _off_the_browser_thread(buy)
    page.wait_for_function("window.__notifications.length > 0", timeout=10_000)
    shown = page.evaluate("window.__notifications")
    assert len(shown) == 1
    assert "BTCUSDT" in shown[0]["title"]
    assert shown[0]["body"] == "BUY 0.5 @ 101"

    # Switched off: the next fill shows nothing.
    toggle.click()
    page.wait_for_selector('#notify-toggle[aria-pressed="false"]')
    _off_the_browser_thread(buy)
    page.wait_for_selector("#fills-body tr >> nth=5", timeout=10_000)
    assert page.evaluate("window.__notifications.length") == 1

    # The overview's heat map now shows the open BTC (two buys of 0.5 at 101).
    page.goto(f"{base}/dashboard/")
    cell = page.locator('#heatmap-assets tr[data-asset="BTC"] td.total')
    assert cell.get_attribute("data-value") == "101"
    assert page.locator("#heatmap-hours li").count() == 24
    _shot(page, "overview-heatmap")
