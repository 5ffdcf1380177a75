"""The list's row of one backtest, as static/dashboard/backtest.js fetches it when a run
finishes: the same markup and formatting as the list renders, scoped like the list."""

import re

import pytest
from django.test import Client

from apps.backtest.models import Status
from tests.accounts.factories import make_org, make_user, member, otp_login
from tests.dashboard.backtest_rows import make_backtest

pytestmark = pytest.mark.django_db

BACKTESTS = "/dashboard/backtests/"
METRICS = {"total_return": 0.1234, "sharpe": 1.876, "max_drawdown": -0.0912, "trades": 17}


def _row_url(backtest) -> str:
    return f"{BACKTESTS}{backtest.pk}/row/"


def _row_in(html: str, backtest) -> str:
    found = re.search(rf'<tr data-backtest-id="{backtest.pk}".*?</tr>', html, re.S)
    assert found, html
    return found.group(0)


@pytest.fixture
def desk(redis_client):
    ours, theirs = make_org("Rows"), make_org("Other rows")
    viewer = member(ours, "viewer")
    client = Client()
    otp_login(client, viewer)
    return {"ours": ours, "theirs": theirs, "client": client}


def test_a_finished_runs_row_shows_its_metrics_as_the_list_does(desk):
    backtest = make_backtest(
        desk["ours"], "Trend BTC", status=Status.DONE, progress=100, metrics=METRICS
    )
    client = desk["client"]

    response = client.get(_row_url(backtest))

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache
    row = response.content.decode().strip()
    assert row.startswith(f'<tr data-backtest-id="{backtest.pk}" data-status="done"')
    for metric, shown in (("total_return", "12.34%"), ("sharpe", "1.88"),
                          ("max_drawdown", "-9.12%"), ("trades", "17")):  # fmt: skip
        assert f'data-metric="{metric}">{shown}<' in row
    assert '<span class="badge backtest-done" data-field="status">Done</span>' in row
    # Byte for byte the row the list renders (cells, dates, locale formatting).
    assert row == _row_in(client.get(BACKTESTS).content.decode(), backtest)


def test_the_list_rows_say_where_to_fetch_them_again(desk):
    queued = make_backtest(desk["ours"], "Queued run")
    html = desk["client"].get(BACKTESTS).content.decode()
    row = _row_in(html, queued)
    assert 'data-status="queued"' in row
    assert f'data-row-url="{_row_url(queued)}"' in row
    assert 'data-metric="total_return">—<' in row  # nothing to show yet


def test_a_failed_runs_row_is_served_without_metrics(desk):
    failed = make_backtest(desk["ours"], "Broken", status=Status.FAILED, error="no candles")
    row = desk["client"].get(_row_url(failed)).content.decode()
    assert 'data-status="failed"' in row
    assert 'data-metric="sharpe">—<' in row


def test_rows_are_scoped_like_the_list(desk):
    theirs = make_backtest(desk["theirs"], "Their secret run", status=Status.DONE, metrics=METRICS)
    mine = make_backtest(desk["ours"], "Mine", status=Status.DONE, metrics=METRICS)
    # Another organization's run, or one that does not exist: 404.
    assert desk["client"].get(_row_url(theirs)).status_code == 404
    assert desk["client"].get(f"{BACKTESTS}999999/row/").status_code == 404
    # A verified user with no role in our organization: 404 too.
    stranger = Client()
    otp_login(stranger, make_user())
    assert stranger.get(_row_url(mine)).status_code == 404
    # Not signed in, or the second factor not verified: sent to log in.
    anonymous = Client()
    assert anonymous.get(_row_url(mine)).url.startswith("/accounts/login/")
    unverified = Client()
    unverified.force_login(member(desk["ours"], "trader"))
    assert unverified.get(_row_url(mine)).status_code == 302


def test_the_row_view_answers_get_only(desk):
    mine = make_backtest(desk["ours"], "Mine")
    assert desk["client"].post(_row_url(mine)).status_code == 405
