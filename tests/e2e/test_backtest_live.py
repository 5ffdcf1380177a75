"""Backtest progress in a real browser: the list and the detail page follow a run over
/ws/live/ as the real `publish_progress` sends it, and the detail page reloads once
when the run is done, showing its metrics, curves and exports."""

from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection

from apps.backtest.models import Backtest, Status
from apps.backtest.services import publish_progress
from tests.accounts.factories import make_org, member, totp_device
from tests.e2e.test_dashboard import _log_in, _off_the_browser_thread, _shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOUR_MS = 3_600_000
METRICS = {"total_return": 0.1234, "sharpe": 1.876, "max_drawdown": -0.0912, "trades": 17}


@pytest.fixture
def desk():
    def build():
        organization = make_org("E2E backtests")
        trader = member(organization, "trader", username="trader-e2e")
        backtest = Backtest.objects.create(
            organization=organization, name="Trend BTC live", strategy="trend_following",
            strategy_version="1.0", symbols=["BTCUSDT"], interval="1h",
            start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC),
        )  # fmt: skip
        return {"backtest": backtest, "device": totp_device(trader)}

    built = _off_the_browser_thread(build)
    connection.close()  # the browser's requests run in daphne, on their own connections
    return built


def _run_reaches(backtest_id: int, progress: int) -> None:
    """What a worker does every half second: write the progress, then publish it."""

    def work():
        Backtest.objects.filter(pk=backtest_id).update(status=Status.RUNNING, progress=progress)
        publish_progress(Backtest.objects.get(pk=backtest_id))

    # publish_progress needs a thread without Playwright's event loop.
    _off_the_browser_thread(work)


def _run_finishes(backtest_id: int) -> None:
    def work():
        backtest = Backtest.objects.get(pk=backtest_id)
        times = np.arange(1_767_225_600_000, 1_767_225_600_000 + 5 * HOUR_MS, HOUR_MS)
        backtest.curve = Backtest.pack_curve(times, np.array([100.0, 110.0, 99.0, 120.0, 112.3]))
        backtest.status, backtest.progress, backtest.metrics = Status.DONE, 100, METRICS
        backtest.save()
        publish_progress(backtest)

    _off_the_browser_thread(work)


def _wait_subscribed(page) -> None:
    page.wait_for_selector('#live-state[data-state="live"]', timeout=10_000)
    page.wait_for_function("window.spotdeskBacktestLive && spotdeskBacktestLive.subscribed")


def test_a_running_backtest_moves_live_and_its_results_appear_when_done(page, daphne_server, desk):
    backtest_id = desk["backtest"].pk
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The list: the queued run's row follows it.
    _log_in(page, daphne_server.base_url, "/dashboard/backtests/", desk["device"])
    row = page.locator(f'#backtests tr[data-backtest-id="{backtest_id}"]')
    assert row.locator('[data-field="progress"]').inner_text() == "0%"
    _wait_subscribed(page)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    _run_reaches(backtest_id, 10)
    page.wait_for_function(
        "([id]) => document.querySelector(`tr[data-backtest-id='${id}'] [data-field=progress]`)"
        ".textContent === '10%'",
        arg=[backtest_id],
        timeout=5_000,
    )
    assert row.locator('[data-field="progress-bar"]').evaluate("bar => bar.value") == 10
    assert row.locator('[data-field="status"]').inner_text() == "Running"
    assert page.evaluate("window.__sameDocument") is True

    # The detail page: progress without a reload, then the results after one.
    row.locator("a").click()
    page.wait_for_url(f"**/dashboard/backtests/{backtest_id}/")
    assert page.locator("#backtest-progress").inner_text() == "10%"
    _wait_subscribed(page)
    page.evaluate("window.__sameDocument = true")
    _run_reaches(backtest_id, 42)
    page.wait_for_function(
        "document.getElementById('backtest-progress').textContent === '42%'", timeout=5_000
    )
    assert page.locator("#backtest-status").inner_text() == "Running"
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#backtest-equity").count() == 0
    _shot(page, "backtest-running")

    _run_finishes(backtest_id)
    page.wait_for_function("window.__sameDocument === undefined", timeout=10_000)  # reloaded
    page.wait_for_selector("#backtest-equity svg", timeout=10_000)
    assert page.locator('[data-metric="total_return"]').inner_text() == "12.34%"
    assert page.locator('[data-metric="sharpe"]').inner_text() == "1.88"
    assert page.locator('[data-metric="trades"]').inner_text() == "17"
    assert page.locator("#backtest-status").inner_text() == "Done"
    assert page.locator("#backtest-progress").inner_text() == "100%"
    assert page.locator("#backtest-exports a").count() == 3
    # A finished run is not watched: the reloaded page opened no socket.
    assert page.evaluate("window.spotdeskBacktestLive === undefined")
    _shot(page, "backtest-done")
    assert errors == []
