"""The ops console's backtest and batch pages follow unfinished runs, and a batch
itself, over /ws/live/ (static/dashboard/backtest.js) instead of refreshing themselves."""

import json
import re
from datetime import UTC, datetime

import pytest

from apps.backtest.models import Backtest, BacktestBatch, Status
from tests.accounts.factories import make_org, member, otp_login

from .test_backtest_product import _staff

pytestmark = pytest.mark.django_db

REFRESH = 'http-equiv="refresh"'
SCRIPTS = ("/static/dashboard/live_socket.js", "/static/dashboard/backtest.js")


def _backtest(organization, name: str = "run", batch=None, **fields) -> Backtest:
    return Backtest.objects.create(
        organization=organization, name=name, strategy="trend_following",
        strategy_version="1.0", symbols=["BTCUSDT"], interval="1h", batch=batch,
        start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC),
        **fields,
    )  # fmt: skip


def _batch(organization, *statuses, status=Status.RUNNING) -> BacktestBatch:
    batch = BacktestBatch.objects.create(
        organization=organization, name="sweep", kind="sweep", status=status
    )
    for i, run_status in enumerate(statuses):
        _backtest(organization, f"run {i}", batch=batch, status=run_status)
    return batch


@pytest.fixture
def org():
    return make_org("Admin live")


@pytest.fixture
def ops(client, org, redis_client):
    """A staff trader of `org`, signed in to the ops console with 2FA."""
    user = _staff(member(org, "trader"), "view_backtest", "view_backtestbatch")
    otp_login(client, user)
    return client


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def _backtest_page(client, backtest) -> str:
    return _page(client, f"/admin/backtest/backtest/{backtest.pk}/change/")


def _batch_page(client, batch) -> str:
    return _page(client, f"/admin/backtest/backtestbatch/{batch.pk}/change/")


def _strings(html: str) -> dict:
    found = re.search(r'<script id="dashboard-strings" type="application/json">(.*?)</script>',
                      html, re.S)  # fmt: skip
    assert found, "no dashboard-strings"
    return json.loads(found.group(1))


def test_an_unfinished_backtests_page_follows_it_live_without_refreshing(ops, org):
    backtest = _backtest(org, status=Status.RUNNING, progress=42)
    html = _backtest_page(ops, backtest)
    assert REFRESH not in html
    assert all(f'<script src="{script}" defer></script>' in html for script in SCRIPTS)
    # backtest.js's hooks: the run, its state, the fields it rewrites, the reload.
    assert (
        f'<div id="backtest-live" data-backtest-id="{backtest.pk}" data-status="running" '
        "data-reload-when-finished>"
    ) in html
    assert '<span class="badge backtest-running" data-field="status">Running</span>' in html
    assert 'value="42" data-field="progress-bar"' in html
    assert '<span data-field="progress">42%</span>' in html
    assert 'id="live-state"' in html
    # The words the scripts write, as the dashboard's pages carry them.
    labels = _strings(html)["labels"]["backtest_status"]
    assert labels["done"] == "Done"
    assert labels["failed"] == "Failed"


def test_a_finished_backtests_page_is_static(ops, org):
    backtest = _backtest(org, status=Status.DONE, progress=100, metrics={"sharpe": 1.5})
    html = _backtest_page(ops, backtest)
    assert REFRESH not in html
    assert not any(script in html for script in SCRIPTS)
    assert "data-backtest-id" not in html
    assert "data-reload-when-finished" not in html
    assert '<span class="badge backtest-done" data-field="status">Done</span>' in html


def _batch_hooks(batch) -> tuple[str, str]:
    """backtest.js's hooks of the batch's own status and progress."""
    holder = (
        f'<span data-batch-id="{batch.pk}" data-status="{batch.status}" '
        f'data-progress="{batch.progress}">'
    )
    status = f'{holder}<span class="badge backtest-{batch.status}" data-field="status">'
    progress = (
        f'{holder}<progress max="100" value="{batch.progress}" data-field="progress-bar">'
        f'{batch.progress}%</progress> <span data-field="progress">{batch.progress}%</span>'
    )
    return status, progress


def test_a_running_batch_follows_itself_and_its_unfinished_runs_live(ops, org):
    batch = _batch(org, Status.DONE, Status.RUNNING, Status.QUEUED)
    BacktestBatch.objects.filter(pk=batch.pk).update(progress=33)
    batch.refresh_from_db()
    done, running, queued = batch.runs.order_by("pk")
    html = _batch_page(ops, batch)
    assert REFRESH not in html
    assert all(script in html for script in SCRIPTS)
    assert '<div id="backtest-live" data-reload-when-finished>' in html
    for run in (done, running, queued):
        assert f'<tr data-backtest-id="{run.pk}" data-status="{run.status}">' in html
    assert '<span class="badge backtest-queued" data-field="status">Queued</span>' in html
    status, progress = _batch_hooks(batch)
    assert f"{status}Running</span></span>" in html
    assert progress in html
    assert "This page follows the batch and its unfinished runs live" in html
    assert "dashboard-strings" in html


@pytest.mark.parametrize("runs", [(Status.DONE, Status.FAILED), ()])
def test_a_batch_with_no_run_to_follow_follows_itself_without_refreshing(ops, org, runs):
    # Every run finished with the summary not written yet, or none created yet (as the
    # test runs of a walk-forward analysis): the batch itself is followed.
    batch = _batch(org, *runs)
    html = _batch_page(ops, batch)
    assert REFRESH not in html
    assert all(f'<script src="{script}" defer></script>' in html for script in SCRIPTS)
    assert '<div id="backtest-live" data-reload-when-finished>' in html
    assert all(hook in html for hook in _batch_hooks(batch))
    assert 'id="live-state"' in html
    # Without JavaScript: a link to reload instead of a page that refreshes itself.
    noscript = re.search(r"<noscript>(.*?)</noscript>", html, re.S)
    assert noscript, "no <noscript> note"
    assert '<a href="">reload it</a>' in noscript.group(1)
    assert _strings(html)["labels"]["backtest_status"]["done"] == "Done"


def test_a_finished_batchs_page_is_static(ops, org):
    batch = _batch(org, Status.DONE, Status.DONE, status=Status.DONE)
    html = _batch_page(ops, batch)
    assert REFRESH not in html
    assert not any(script in html for script in SCRIPTS)
    assert "data-reload-when-finished" not in html
    assert "<noscript>" not in html
    assert '<span class="badge backtest-done" data-field="status">Done</span>' in html
