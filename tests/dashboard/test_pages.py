"""The dashboard pages through Django's test client: who may see what, and what they show."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from apps.dashboard import sequence
from apps.dashboard.events import account_group
from apps.marketdata.models import Candle, Symbol
from apps.monitoring.alerts import raise_alert
from apps.risk.services import create_risk_profile
from apps.strategies.engine.signals import Action, Signal
from apps.trading.models import Position
from apps.trading.services import record_decision, record_equity_snapshot
from tests.accounts.factories import make_org, member, otp_login
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db

OVERVIEW = "/dashboard/"


def account_url(account) -> str:
    return f"/dashboard/accounts/{account.pk}/"


def _json_script(response, element_id: str):
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def desk(redis_client):
    """Two organizations, each with an active account; ours has a trader and a viewer."""
    sync_default_symbols()
    ours, theirs = make_org("Ours"), make_org("Theirs")
    account = active_account(ours, name="Main desk")
    other = active_account(theirs, name="Their desk")
    trader = member(ours, "trader")
    viewer = member(ours, "viewer")
    return {"account": account, "other": other, "trader": trader, "viewer": viewer}


@pytest.fixture
def trader_client(client, desk):
    otp_login(client, desk["trader"])
    return client


@pytest.mark.parametrize("path", [OVERVIEW, "/dashboard/accounts/1/"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert response.url.endswith(f"?next={path}")


def test_a_session_without_a_verified_second_factor_is_sent_to_log_in(client, desk):
    client.force_login(desk["trader"])  # password only: no OTP device in the session
    for path in (OVERVIEW, account_url(desk["account"])):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_the_overview_lists_only_the_users_accounts_with_their_figures(trader_client, desk):
    account = desk["account"]
    config = make_config(account)
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    record_equity_snapshot(account=account, taken_at=yesterday, equity="1000")
    record_equity_snapshot(account=account, taken_at=now, equity="1012.5")
    fill(order_for(config, quantity="0.5"), price="100", quantity="0.5")  # one open position
    order_for(config, quantity="1")  # pending: an open order
    raise_alert("warning", "ours", "Our account needs a look", organization=account.organization)
    raise_alert(
        "error",
        "theirs",
        "Their secret trouble",
        organization=desk["other"].organization,
    )

    response = trader_client.get(OVERVIEW)

    assert response.status_code == 200
    rows = {a.pk: a for a in response.context["accounts"]}
    assert list(rows) == [account.pk]  # another organization's account is not listed
    row = rows[account.pk]
    assert (row.equity, row.today_pnl) == (1012.5, 12.5)
    assert (row.open_positions, row.open_orders) == (1, 1)
    html = response.content.decode()
    assert "Main desk" in html
    assert "Their desk" not in html
    assert "1012.5 USDT" in html
    assert "+12.5" in html
    assert "Our account needs a look" in html
    assert "Their secret trouble" not in html
    assert f'href="{account_url(account)}"' in html
    assert _json_script(response, "dashboard-live") == {"accounts": [account.pk]}


def test_todays_pnl_takes_deposits_out(trader_client, desk):
    from apps.trading.services import record_cash_flow

    account = desk["account"]
    now = timezone.now()
    record_equity_snapshot(account=account, taken_at=now - timedelta(days=1), equity="1000")
    record_cash_flow(
        account=account, kind="deposit", asset="USDT", amount="500", value="500",
        occurred_at=now - timedelta(minutes=5), external_id="dep-today",
    )  # fmt: skip
    record_equity_snapshot(account=account, taken_at=now, equity="1490")

    row = trader_client.get(OVERVIEW).context["accounts"][0]

    assert row.today_pnl == -10  # 1490 - 500 deposited - 1000


def test_another_organizations_account_page_is_404(trader_client, desk):
    assert trader_client.get(account_url(desk["other"])).status_code == 404
    assert trader_client.get("/dashboard/accounts/999999/").status_code == 404


def test_the_account_page_shows_positions_orders_fills_and_decisions(trader_client, desk):
    account = desk["account"]
    profile = create_risk_profile(name="steps")
    config = make_config(account)
    config.risk_profile = profile
    config.save(update_fields=["risk_profile"])
    entry = order_for(config, quantity="2")
    fill(entry, price="100", quantity="2", commission="0.1")
    Position.objects.filter(account=account).update(stop_price="95", ladder_done=1)
    signal = Signal(Action.HOLD, "trend too weak to enter", "trend_following", "1.0", "BTCUSDT",
                    "1h", None)  # fmt: skip
    record_decision(
        config=config, symbol="BTCUSDT", signal=signal, fingerprint="f",
        candle_open_time=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    other_config = make_config(desk["other"])
    order_for(other_config, quantity="7")

    response = trader_client.get(account_url(account))

    assert response.status_code == 200
    html = response.content.decode()
    (view,) = response.context["positions"]
    assert view.position.stop_price == 95
    ladder = profile.to_engine_config().exits.ladder
    entry_price = view.position.average_entry_price  # 100 plus the fee per unit
    assert entry_price == D("100.05")
    assert [r.target_price for r in view.ladder] == [entry_price * (1 + s.gain) for s in ladder]
    assert [r.done for r in view.ladder] == [True] + [False] * (len(ladder) - 1)
    assert 'class="rung done"' in html
    assert f'data-order-id="{entry.pk}"' in html
    assert [o.pk for o in response.context["orders"]] == [entry.pk]  # not theirs
    assert f'data-fill-id="{entry.fills.get().pk}"' in html
    assert "trend too weak to enter" in html
    # Controls post to the REST API with the CSRF token the page carries.
    assert 'name="csrf-token"' in html
    assert "csrftoken" in response.cookies
    assert f"/api/v1/exchange-accounts/{account.pk}/pause/" in html
    assert f"/api/v1/exchange-accounts/{account.pk}/kill/" in html
    assert 'id="resume-button"' in html
    assert 'id="confirm-dialog"' in html


def test_a_viewer_gets_the_kill_switch_but_not_pause_or_resume(client, desk):
    otp_login(client, desk["viewer"])
    html = client.get(account_url(desk["account"])).content.decode()
    assert 'id="kill-button"' in html
    assert 'id="pause-button"' not in html
    assert 'id="resume-button"' not in html


def test_the_page_resumes_live_updates_from_the_number_it_was_rendered_at(
    trader_client, desk, redis_client, django_capture_on_commit_callbacks
):
    account = desk["account"]
    config = make_config(account)
    with django_capture_on_commit_callbacks(execute=True):
        order_for(config)  # numbered and kept after commit
    latest = sequence.latest(redis_client, account_group(account.pk))
    assert latest >= 1

    response = trader_client.get(account_url(account))

    assert _json_script(response, "dashboard-live") == {"account": account.pk, "after": latest}
    strings = _json_script(response, "dashboard-strings")
    assert strings["labels"]["order_status"]["partially_filled"]


def test_the_chart_data_has_candles_fill_markers_and_the_equity_curve(trader_client, desk):
    account = desk["account"]
    config = make_config(account)
    symbol = Symbol.objects.get(environment="paper", name="BTCUSDT")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(3):
        Candle.objects.create(
            symbol=symbol, interval="1h", open_time=start + timedelta(hours=i),
            close_time=start + timedelta(hours=i + 1, milliseconds=-1),
            open="100", high="110", low="90", close="105", volume="1", quote_volume="100",
        )  # fmt: skip
    fill_ms = int((start + timedelta(hours=1, minutes=30)).timestamp() * 1000)
    fill(order_for(config, quantity="1"), price="101.5", quantity="1", time_ms=fill_ms)
    record_equity_snapshot(account=account, taken_at=start, equity="1000")
    record_equity_snapshot(account=account, taken_at=start + timedelta(hours=2), equity="1003")

    chart = _json_script(trader_client.get(account_url(account)), "dashboard-chart")

    assert (chart["symbol"], chart["interval"]) == ("BTCUSDT", "1h")
    assert [c["time"] for c in chart["candles"]] == [
        int((start + timedelta(hours=i)).timestamp()) for i in range(3)
    ]
    assert chart["candles"][0] == {
        "time": int(start.timestamp()), "open": "100", "high": "110", "low": "90", "close": "105",
    }  # fmt: skip
    assert chart["markers"] == [
        {"time": fill_ms // 1000, "side": "BUY", "price": "101.5", "quantity": "1"}
    ]
    assert [p["value"] for p in chart["equity"]] == ["1000", "1003"]


def test_the_pages_load_their_static_files_and_the_vendor_chart_library(trader_client, desk):
    html = trader_client.get(account_url(desk["account"])).content.decode()
    assert "/static/dashboard/dashboard.js" in html
    assert "/static/dashboard/theme.js" in html
    assert "/static/vendor/lightweight-charts.js" in html
    assert 'action="/dashboard/language/"' in html  # remembered per user
    assert 'value="pt-br"' in html
    assert 'id="help-overlay"' in html


def test_pages_speak_the_chosen_language(trader_client, desk):
    trader_client.post("/dashboard/language/", {"language": "pt-br", "next": OVERVIEW})
    html = trader_client.get(OVERVIEW).content.decode()
    assert '<html lang="pt-br">' in html
