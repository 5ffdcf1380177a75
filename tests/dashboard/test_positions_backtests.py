"""Manual position actions on the account page and the backtest pages of the dashboard."""

from datetime import UTC, datetime

import numpy as np
import pytest

from apps.backtest.models import Backtest, Status
from apps.trading.models import Position
from tests.accounts.factories import make_org, member, otp_login
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db

BACKTESTS = "/dashboard/backtests/"


@pytest.fixture
def desk(redis_client):
    sync_default_symbols()
    ours, theirs = make_org("Ours"), make_org("Theirs")
    account = active_account(ours, name="Main desk")
    return {
        "ours": ours,
        "theirs": theirs,
        "account": account,
        "trader": member(ours, "trader"),
        "viewer": member(ours, "viewer"),
    }


@pytest.fixture
def trader_client(client, desk):
    otp_login(client, desk["trader"])
    return client


def _open_position(account, quantity="2") -> Position:
    config = make_config(account)
    entry = order_for(config, quantity=quantity)
    fill(entry, price="100", quantity=quantity, commission="0")
    return Position.objects.get(account=account, status=Position.Status.OPEN)


def _backtest(org, name, *, status=Status.DONE, metrics=None, curve=True) -> Backtest:
    backtest = Backtest.objects.create(
        organization=org, name=name, strategy="trend_following", strategy_version="1.0",
        symbols=["BTCUSDT"], interval="1h", start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 2, 1, tzinfo=UTC), status=status,
        progress=100 if status == Status.DONE else 40, metrics=metrics or {},
    )  # fmt: skip
    if curve:
        hour = 3_600_000
        times = np.arange(1_767_225_600_000, 1_767_225_600_000 + 5 * hour, hour)
        backtest.curve = Backtest.pack_curve(times, np.array([100.0, 110.0, 99.0, 120.0, 125.0]))
        backtest.save(update_fields=["curve"])
    return backtest


# --- manual position actions -----------------------------------------------------------


def test_open_positions_get_close_move_stop_and_cancel_ladder_buttons(trader_client, desk):
    account = desk["account"]
    position = _open_position(account)
    closed = Position.objects.create(
        account=account, strategy_config=position.strategy_config, symbol="ETHUSDT",
        base_asset="ETH", quote_asset="USDT", status=Position.Status.CLOSED, quantity="0",
        average_entry_price="10",
        opened_at=position.opened_at, closed_at=position.opened_at,
    )  # fmt: skip

    html = trader_client.get(f"/dashboard/accounts/{account.pk}/").content.decode()

    for path in ("close", "move-stop", "cancel-ladder"):
        assert f'data-url="/api/v1/positions/{position.pk}/{path}/"' in html
        assert f"/api/v1/positions/{closed.pk}/{path}/" not in html
    assert f'id="stop-{position.pk}"' in html
    assert 'data-confirm="confirm_move_stop"' in html
    assert "dashboard/positions.js" in html
    assert 'id="confirm-dialog"' in html


def test_a_canceled_ladder_offers_no_cancel_ladder_button(trader_client, desk):
    position = _open_position(desk["account"])
    Position.objects.filter(pk=position.pk).update(ladder_canceled=True)
    html = trader_client.get(f"/dashboard/accounts/{desk['account'].pk}/").content.decode()
    assert f"/api/v1/positions/{position.pk}/close/" in html
    assert f"/api/v1/positions/{position.pk}/cancel-ladder/" not in html


def test_a_viewer_gets_no_position_buttons(client, desk):
    position = _open_position(desk["account"])
    otp_login(client, desk["viewer"])
    html = client.get(f"/dashboard/accounts/{desk['account'].pk}/").content.decode()
    assert f"/api/v1/positions/{position.pk}/close/" not in html


def test_the_position_js_is_served(trader_client, desk):
    from django.contrib.staticfiles import finders

    with open(finders.find("dashboard/positions.js"), encoding="utf-8") as script:
        source = script.read()
    assert "X-CSRFToken" in source
    assert "stop_price" in source


def test_the_api_answers_the_page_with_a_message_naming_stop_price(desk):
    """What positions.js posts (session, CSRF header from the page) and shows in the
    dialog: the API's error message, which names the field."""
    from django.test import Client

    position = _open_position(desk["account"])
    browser = Client(enforce_csrf_checks=True)
    otp_login(browser, desk["trader"])
    page = browser.get(f"/dashboard/accounts/{desk['account'].pk}/")
    token = page.cookies["csrftoken"].value
    url = f"/api/v1/positions/{position.pk}/move-stop/"

    refused = browser.post(url, {"stop_price": "-1"}, content_type="application/json")
    assert refused.status_code == 403  # no CSRF token: nothing happens

    response = browser.post(
        url, {"stop_price": "-1"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 400
    assert "stop_price" in response.json()["error"]["message"]
    position.refresh_from_db()
    assert position.stop_price is None


# --- backtests -------------------------------------------------------------------------


def test_backtest_pages_need_a_verified_session(client, desk):
    mine = _backtest(desk["ours"], "mine")
    for path in (BACKTESTS, f"{BACKTESTS}{mine.pk}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    client.force_login(desk["trader"])  # signed in, second factor not verified
    assert client.get(BACKTESTS).status_code == 302


def test_the_list_shows_only_our_organizations_backtests_with_their_metrics(trader_client, desk):
    done = _backtest(
        desk["ours"], "Trend BTC",
        metrics={"total_return": 0.1234, "sharpe": 1.876, "max_drawdown": -0.0912, "trades": 17},
    )  # fmt: skip
    running = _backtest(desk["ours"], "Still going", status=Status.RUNNING, curve=False)
    theirs = _backtest(desk["theirs"], "Their secret run")

    response = trader_client.get(BACKTESTS)

    assert response.status_code == 200
    html = response.content.decode()
    assert [b.pk for b, _ in response.context["rows"]] == [running.pk, done.pk]
    assert "Trend BTC" in html
    assert "Still going" in html
    assert "Their secret run" not in html
    assert f"/dashboard/backtests/{theirs.pk}/" not in html
    for metric, shown in (("total_return", "12.34%"), ("sharpe", "1.88"),
                          ("max_drawdown", "-9.12%"), ("trades", "17")):  # fmt: skip
        assert f'data-metric="{metric}">{shown}<' in html
    assert 'value="40"' in html  # the running one's progress
    # The top navigation links here.
    assert 'href="/dashboard/backtests/" id="nav-backtests"' in html


def test_the_detail_page_shows_metrics_svg_curves_and_export_links(trader_client, desk):
    backtest = _backtest(
        desk["ours"], "Trend BTC",
        metrics={"total_return": 0.25, "sharpe": 2.0, "max_drawdown": -0.1, "trades": 3},
    )  # fmt: skip

    response = trader_client.get(f"{BACKTESTS}{backtest.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    for metric, shown in (("total_return", "25.00%"), ("sharpe", "2.00"),
                          ("max_drawdown", "-10.00%"), ("trades", "3")):  # fmt: skip
        assert f'data-metric="{metric}">{shown}<' in html
    assert html.count("<svg") == 2
    assert "<polyline" in html
    for fmt in ("csv", "xlsx", "pdf"):
        assert f'href="/api/v1/backtests/{backtest.pk}/export/{fmt}/"' in html


def test_an_unfinished_backtest_has_no_exports_or_curves_yet(trader_client, desk):
    backtest = _backtest(desk["ours"], "Queued", status=Status.QUEUED, curve=False)
    html = trader_client.get(f"{BACKTESTS}{backtest.pk}/").content.decode()
    assert "/export/" not in html
    assert "<svg" not in html
    assert "—" in html


def test_another_organizations_backtest_is_404(trader_client, desk):
    theirs = _backtest(desk["theirs"], "Their secret run")
    assert trader_client.get(f"{BACKTESTS}{theirs.pk}/").status_code == 404
    assert trader_client.get(f"{BACKTESTS}999999/").status_code == 404


def test_a_live_position_row_is_served_as_the_page_renders_it(trader_client, desk):
    from django.test import Client

    position = _open_position(desk["account"])
    url = f"/dashboard/accounts/{desk['account'].pk}/positions/{position.pk}/row/"
    row = trader_client.get(url)
    assert row.status_code == 200
    html = row.content.decode()
    assert f'data-position-id="{position.pk}"' in html
    assert f"/api/v1/positions/{position.pk}/close/" in html  # the actions come with it
    assert 'class="ladder"' in html
    # Another organization's member finds nothing there; a closed position is gone too.
    stranger = Client()
    otp_login(stranger, member(make_org(), "trader"))
    assert stranger.get(url).status_code == 404
    Position.objects.filter(pk=position.pk).update(status=Position.Status.CLOSED)
    assert trader_client.get(url).status_code == 404
