"""The dashboard in a real browser: TOTP login, a paper-exchange fill appearing live on
the account page, dark mode, shortcuts help, the confirmed pause control and pt-BR.

Screenshots land in var/e2e-artifacts/ (ignored by git) for a human to look at."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.marketdata.models import Candle, Symbol
from apps.trading import execution
from apps.trading.models import Fill
from apps.trading.services import create_order, record_equity_snapshot
from tests.accounts.factories import PASSWORD, code_for, make_org, member, totp_device
from tests.trading.support import make_config

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "var" / "e2e-artifacts"


@pytest.fixture
def desk(paper_account):
    organization = make_org("E2E desk")
    account = paper_account({"USDT": "100000"}, organization=organization, name="Paper one")
    trader = member(organization, "trader", username="trader-e2e")
    device = totp_device(trader)
    config = make_config(account)
    _candles_until_now("BTCUSDT")
    _off_the_browser_thread(lambda: _equity_curve(account))
    connection.close()  # the browser's requests run in daphne, on their own connections
    return {"account": account, "config": config, "device": device}


def _equity_curve(account) -> None:
    now = timezone.now()
    for hours, equity in ((6, "100000"), (3, "100150"), (0, "100090")):
        record_equity_snapshot(
            account=account, taken_at=now - timedelta(hours=hours), equity=equity
        )


def _candles_until_now(name: str, hours: int = 48) -> None:
    symbol = Symbol.objects.get(environment="paper", name=name)
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    price = D("95000")
    for i in range(hours, -1, -1):
        opened = top - timedelta(hours=i)
        step = D((i * 37) % 11 - 5) * 40
        Candle.objects.create(
            symbol=symbol, interval="1h", open_time=opened,
            close_time=opened + timedelta(hours=1, milliseconds=-1),
            open=price, high=price + 300, low=price - 300, close=price + step,
            volume="1", quote_volume=price,
        )  # fmt: skip
        price += step


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def _off_the_browser_thread(work):
    """Run `work` in a plain thread: Playwright keeps an event loop in this one, where
    the live channel's publishing (async_to_sync) may not run."""

    def run():
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


def _log_in(page, base_url: str, next_path: str, device) -> None:
    page.goto(f"{base_url}{next_path}")
    assert "/accounts/login/" in page.url  # not verified yet: sent to log in
    page.fill("#id_username", "trader-e2e")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code_for(device))
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def test_a_trader_watches_a_fill_arrive_and_drives_the_page(page, daphne_server, desk):
    account = desk["account"]
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    path = f"/dashboard/accounts/{account.pk}/"
    _log_in(page, daphne_server.base_url, path, desk["device"])
    assert page.locator("h1").inner_text().startswith("Paper one")
    page.wait_for_selector('#live-state[data-state="live"]', timeout=10_000)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    # Both charts are drawn by lightweight-charts (from static/vendor/).
    assert page.locator("#candle-chart canvas").count() > 0, errors
    assert page.locator("#equity-chart canvas").count() > 0
    assert page.locator("#fills-body tr").count() == 0

    # A market buy on the paper exchange: execution books its fills through apply_fill.
    def buy(client_order_id):
        order, _ = create_order(
            account=account, strategy_config=desk["config"], client_order_id=client_order_id,
            symbol="BTCUSDT", intent="entry", order_type="MARKET", side="BUY", quantity="0.01",
        )  # fmt: skip
        return execution.submit(order).order

    order = _off_the_browser_thread(lambda: buy("e2e-buy-1"))
    fill = Fill.objects.filter(order=order).first()
    assert fill is not None

    row = page.locator(f'#fills-body tr[data-fill-id="{fill.pk}"]')
    row.wait_for(timeout=5_000)
    assert "BTCUSDT" in row.inner_text()
    page.locator(f'#orders-body tr[data-order-id="{order.pk}"]').wait_for(timeout=5_000)
    page.locator("#positions-body tr[data-position-id]").first.wait_for(timeout=5_000)
    assert page.evaluate("window.__sameDocument") is True  # updated without a reload
    page.wait_for_timeout(300)  # the fill's chart marker is drawn on the next frame
    _shot(page, "account-live-fill")

    # Connection lost: a fill booked meanwhile arrives after reconnecting, replayed
    # because the page resumes from the last sequence number it applied.
    page.evaluate("spotdeskLive.delay = 600000; spotdeskLive.socket.close()")
    page.wait_for_selector('#live-state[data-state="reconnecting"]', timeout=5_000)
    missed = _off_the_browser_thread(lambda: buy("e2e-buy-2"))
    missed_fill = Fill.objects.filter(order=missed).first()
    page.wait_for_timeout(500)
    assert page.locator(f'#fills-body tr[data-fill-id="{missed_fill.pk}"]').count() == 0
    page.evaluate("spotdeskLive.connect()")
    page.locator(f'#fills-body tr[data-fill-id="{missed_fill.pk}"]').wait_for(timeout=5_000)
    assert page.locator('#live-state[data-state="live"]').count() == 1
    assert page.evaluate("window.__sameDocument") is True

    # Dark mode: a toggle that flips the page and is remembered across reloads.
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    theme = page.evaluate("document.documentElement.dataset.theme || ''")
    page.click("#theme-toggle")
    flipped = page.evaluate("document.documentElement.dataset.theme")
    assert flipped in ("dark", "light")
    assert flipped != theme
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != before
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == flipped
    _shot(page, f"account-{flipped}")

    # `?` opens the shortcuts help; Escape closes it.
    page.keyboard.press("?")
    assert page.locator("#help-overlay").is_visible()
    _shot(page, "shortcuts-help")
    page.keyboard.press("Escape")
    assert page.locator("#help-overlay").is_hidden()

    # Pause asks first; confirming posts to the REST API and the page follows.
    page.click("#pause-button")
    assert page.locator("#confirm-dialog").is_visible()
    page.click("#confirm-ok")
    page.wait_for_selector('#account-status[data-status="paused"]', timeout=5_000)
    assert ExchangeAccount.objects.get(pk=account.pk).status == AccountStatus.PAUSED

    # The language switch: Portuguese (Brazil), back on the same page.
    page.select_option("#language-select", "pt-br")
    page.wait_for_function("document.documentElement.lang === 'pt-br'")
    assert page.url.endswith(path)
    assert "Patrimônio" in page.locator(".figures").inner_text()
    _shot(page, "account-pt-br")

    # The overview lists the account with its live figures; `1` opens it again.
    page.click("#nav-overview")
    page.wait_for_url("**/dashboard/")
    row = page.locator(f'#accounts tr[data-account-id="{account.pk}"]')
    assert "Paper one" in row.inner_text()
    assert row.locator('[data-field="open_positions"]').inner_text() == "1"
    _shot(page, "overview-pt-br")
    page.keyboard.press("1")
    page.wait_for_url(f"**{path}")
    assert errors == []  # no script failed along the way
    assert errors == []  # no script failed along the way
