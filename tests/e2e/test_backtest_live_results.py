"""Finished runs in a real browser: the dashboard's list fills in a run's metrics when
it finishes, without a reload; the ops console's backtest and batch pages follow their
runs over /ws/live/ and reload once when they are done (no more self-refreshing); the
batch page follows the batch itself too, and reloads when it is done or moved on."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.backtest import services
from apps.backtest.models import Backtest, BacktestBatch, Status
from apps.backtest.services import publish_progress
from tests.accounts.factories import PASSWORD, code_for, totp_device
from tests.e2e import test_backtest_live
from tests.e2e.test_backtest_live import _run_finishes, _run_reaches, _wait_subscribed
from tests.e2e.test_dashboard import _log_in, _off_the_browser_thread, _shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

desk = test_backtest_live.desk  # the fixture: one trader, one queued run

OPS = "ops-e2e"


@pytest.fixture
def ops_device():
    """A superuser with an authenticator: the ops console needs the second factor."""

    def build():
        user = get_user_model().objects.create_superuser(OPS, "ops@example.com", PASSWORD)
        return totp_device(user)

    device = _off_the_browser_thread(build)
    connection.close()
    return device


def _admin_log_in(page, base_url: str, path: str, device) -> None:
    page.goto(f"{base_url}{path}")
    assert "/admin/login/" in page.url  # the console's login is the platform's form
    page.fill("#id_username", OPS)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code_for(device))
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def _metric(row, name: str) -> str:
    return row.locator(f'[data-metric="{name}"]').inner_text()


def test_a_finished_run_gets_its_metrics_on_the_list_without_a_reload(page, daphne_server, desk):
    backtest_id = desk["backtest"].pk
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, daphne_server.base_url, "/dashboard/backtests/", desk["device"])
    row = page.locator(f'#backtests tr[data-backtest-id="{backtest_id}"]')
    assert [_metric(row, m) for m in ("total_return", "sharpe", "trades")] == ["—"] * 3
    _wait_subscribed(page)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    _run_finishes(backtest_id)

    page.wait_for_function(
        "([id]) => document.querySelector(`tr[data-backtest-id='${id}'] "
        "[data-metric=total_return]`).textContent === '12.34%'",
        arg=[backtest_id],
        timeout=10_000,
    )
    assert _metric(row, "sharpe") == "1.88"
    assert _metric(row, "max_drawdown") == "-9.12%"
    assert _metric(row, "trades") == "17"
    assert row.locator('[data-field="status"]').inner_text() == "Done"
    assert row.locator('[data-field="progress"]').inner_text() == "100%"
    assert row.get_attribute("data-status") == "done"
    assert page.locator("#backtests tbody tr").count() == 1  # replaced, not added
    assert page.evaluate("window.__sameDocument") is True
    _shot(page, "backtest-list-finished")
    assert errors == []


def test_the_admin_backtest_page_follows_the_run_and_reloads_once_done(
    page, daphne_server, desk, ops_device
):
    backtest_id = desk["backtest"].pk
    path = f"/admin/backtest/backtest/{backtest_id}/change/"
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    reloads = []
    page.on("framenavigated", lambda frame: reloads.append(frame.url))
    _admin_log_in(page, daphne_server.base_url, path, ops_device)
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert page.locator('#backtest-live [data-field="status"]').inner_text() == "Queued"
    _wait_subscribed(page)
    page.evaluate("window.__sameDocument = true")
    navigations = len(reloads)

    _run_reaches(backtest_id, 42)
    page.wait_for_function(
        "document.querySelector('#backtest-live [data-field=progress]').textContent === '42%'",
        timeout=5_000,
    )
    assert page.locator('#backtest-live [data-field="status"]').inner_text() == "Running"
    assert page.locator('[data-field="progress-bar"]').evaluate("bar => bar.value") == 42
    assert page.evaluate("window.__sameDocument") is True
    _shot(page, "admin-backtest-running")

    _run_finishes(backtest_id)
    page.wait_for_function("window.__sameDocument === undefined", timeout=10_000)  # reloaded
    page.wait_for_selector(".field-charts svg", timeout=10_000)
    assert page.locator('[data-field="status"]').inner_text() == "Done"
    assert page.locator('[data-field="progress"]').inner_text() == "100%"
    assert page.locator(".field-links a").count() >= 3  # the exports
    # A finished run is not watched: the reloaded page loads no live script at all.
    assert page.evaluate("window.spotdeskBacktestLive === undefined")
    assert page.locator("#backtest-live").count() == 0
    page.wait_for_timeout(500)
    assert len(reloads) == navigations + 1  # once
    _shot(page, "admin-backtest-done")
    assert errors == []


def test_the_admin_batch_page_follows_its_runs_and_reloads_when_all_are_done(
    page, daphne_server, desk, ops_device
):
    def build():
        first = Backtest.objects.get(pk=desk["backtest"].pk)
        batch = BacktestBatch.objects.create(
            organization=first.organization, name="E2E sweep", kind="sweep",
            status=Status.RUNNING,
        )  # fmt: skip
        second = Backtest.objects.get(pk=first.pk)
        second.pk, second.name = None, "Trend BTC second"
        second.save()
        Backtest.objects.filter(pk__in=[first.pk, second.pk]).update(batch=batch)
        return batch.pk, first.pk, second.pk

    batch_id, first_id, second_id = _off_the_browser_thread(build)
    path = f"/admin/backtest/backtestbatch/{batch_id}/change/"
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _admin_log_in(page, daphne_server.base_url, path, ops_device)
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    _wait_subscribed(page)
    page.evaluate("window.__sameDocument = true")

    _run_finishes(first_id)
    page.wait_for_function(
        "([id]) => document.querySelector(`tr[data-backtest-id='${id}'] [data-field=status]`)"
        ".textContent === 'Done'",
        arg=[first_id],
        timeout=5_000,
    )
    assert page.evaluate("window.__sameDocument") is True  # one run left: no reload yet

    # The worker advances the batch after the run: its own progress follows, live.
    _off_the_browser_thread(lambda: services.advance_batch(batch_id))
    page.wait_for_function(
        "document.querySelector('[data-batch-id] [data-field=progress]').textContent === '50%'",
        timeout=5_000,
    )
    assert page.locator('[data-batch-id] [data-field="status"]').inner_text() == "Running"
    assert page.evaluate("window.__sameDocument") is True

    def last_run_and_summary():
        # As `advance_batch` would: the batch is done before the page asks again.
        BacktestBatch.objects.filter(pk=batch_id).update(status=Status.DONE, progress=100)
        Backtest.objects.filter(pk=second_id).update(status=Status.FAILED, error="no candles")
        publish_progress(Backtest.objects.get(pk=second_id))

    _off_the_browser_thread(last_run_and_summary)
    page.wait_for_function("window.__sameDocument === undefined", timeout=10_000)
    page.wait_for_load_state()
    statuses = page.locator("tr[data-backtest-id] [data-field=status]").all_inner_texts()
    assert statuses == ["Done", "Failed"]
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert page.evaluate("window.spotdeskBacktestLive === undefined")
    _shot(page, "admin-batch-done")
    assert errors == []


def _open_batch_with_its_run_done(page, daphne_server, desk, ops_device) -> tuple[int, list]:
    """A running batch whose only run is done, opened in the admin (no refresh meta):
    its id and the page's script errors, collected from now on."""

    def build():
        first = Backtest.objects.get(pk=desk["backtest"].pk)
        batch = BacktestBatch.objects.create(
            organization=first.organization, name="E2E batch", kind="sweep",
            status=Status.RUNNING, progress=0,
        )  # fmt: skip
        Backtest.objects.filter(pk=first.pk).update(batch=batch, status=Status.DONE, progress=100)
        return batch.pk

    batch_id = _off_the_browser_thread(build)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    path = f"/admin/backtest/backtestbatch/{batch_id}/change/"
    _admin_log_in(page, daphne_server.base_url, path, ops_device)
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    return batch_id, errors


def test_the_admin_batch_page_with_no_run_to_follow_follows_the_batch(
    page, daphne_server, desk, ops_device
):
    """Its runs all finished (or, for a walk-forward analysis, its test runs not started
    yet): the page follows the batch, reloads to show a run started since, and reloads
    once more when the batch is done."""

    batch_id, errors = _open_batch_with_its_run_done(page, daphne_server, desk, ops_device)
    assert page.locator('[data-batch-id] [data-field="progress"]').inner_text() == "0%"
    _wait_subscribed(page)
    page.evaluate("window.__sameDocument = true")

    def a_run_starts():
        # As a walk-forward test run: created by `advance_batch`, after the page was shown.
        first = Backtest.objects.get(pk=desk["backtest"].pk)
        first.pk, first.name, first.status, first.progress = None, "test 1", Status.QUEUED, 0
        first.save()
        services.advance_batch(batch_id)  # one of two runs finished: 50%
        return first.pk

    second_id = _off_the_browser_thread(a_run_starts)
    page.wait_for_function("window.__sameDocument === undefined", timeout=10_000)  # reloaded
    page.wait_for_selector(f'tr[data-backtest-id="{second_id}"][data-status="queued"]')
    assert page.locator('[data-batch-id] [data-field="progress"]').inner_text() == "50%"
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    _wait_subscribed(page)

    def the_run_and_the_batch_finish():
        Backtest.objects.filter(pk=second_id).update(status=Status.FAILED, error="no candles")
        publish_progress(Backtest.objects.get(pk=second_id))
        services.advance_batch(batch_id)

    _off_the_browser_thread(the_run_and_the_batch_finish)
    # Reloaded (once when the run finished, perhaps again for the batch): static now.
    page.wait_for_function(
        "!document.querySelector('[data-reload-when-finished]') && "
        "document.querySelector('[data-batch-id][data-status=done]') !== null",
        timeout=10_000,
    )
    page.wait_for_load_state()
    assert page.locator('[data-batch-id] [data-field="status"]').inner_text() == "Done"
    assert page.locator('[data-batch-id] [data-field="progress"]').inner_text() == "100%"
    assert page.evaluate("window.spotdeskBacktestLive === undefined")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    _shot(page, "admin-batch-followed-done")
    assert errors == []


def test_the_admin_batch_page_reloads_when_the_batch_is_done(page, daphne_server, desk, ops_device):
    """Between the last run and the summary only the batch is left to follow: the page
    reloads when `advance_batch` has written the summary, not on a timer."""

    batch_id, errors = _open_batch_with_its_run_done(page, daphne_server, desk, ops_device)
    _wait_subscribed(page)
    page.evaluate("window.__sameDocument = true")
    page.wait_for_timeout(3_500)  # longer than the old refresh: the page stays put
    assert page.evaluate("window.__sameDocument") is True

    _off_the_browser_thread(lambda: services.advance_batch(batch_id))
    page.wait_for_function("window.__sameDocument === undefined", timeout=10_000)
    page.wait_for_load_state()
    assert page.locator('[data-batch-id] [data-field="status"]').inner_text() == "Done"
    assert page.locator(".field-summary_table").inner_text() != ""
    assert page.evaluate("window.spotdeskBacktestLive === undefined")
    assert errors == []
