"""Backtests through the API and the admin: roles, organizations, results, exports,
paper runs, and the go-live criteria."""

import csv
import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from apps.accounts.actors import Actor
from apps.backtest import exports, services
from apps.backtest.engine.splits import parameter_grid
from apps.backtest.golive import backtest_checklist_items
from apps.backtest.models import Backtest, BacktestBatch, Status
from apps.core.errors import PermissionDenied, ValidationError
from apps.strategies.models import StrategyConfig
from tests.accounts.factories import make_account, otp_login, verified
from tests.api.conftest import Desk, error_of, session_client, token_client, token_for

from .db_support import period, store_candles

pytestmark = pytest.mark.django_db
SYSTEM = Actor.for_system()
PARAMS = {"fast": 10, "slow": 30}


def body(desk, **kw):
    start, end = period()
    return {
        "organization": desk.org.pk,
        "environment": "paper",
        "strategy": "trend_following",
        "params": PARAMS,
        "symbols": ["BTCUSDT"],
        "interval": "1h",
        "start": start.isoformat(),
        "end": end.isoformat(),
    } | kw


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def world(db):
    store_candles()
    return SimpleNamespace(desk=Desk(), other=Desk())


def done_backtest(desk) -> Backtest:
    start, end = period()
    backtest = services.create_backtest(
        actor=SYSTEM, organization=desk.org, environment="paper", strategy="trend_following",
        params=PARAMS, symbols=["BTCUSDT"], interval="1h", start=start, end=end,
    )  # fmt: skip
    services.run_backtest(backtest.pk)
    backtest.refresh_from_db()
    assert backtest.status == Status.DONE
    return backtest


# --- API: roles and organizations ------------------------------------------------------


CREATORS = [("viewer", False), ("trader", True), ("risk_officer", False), ("admin", True)]


@pytest.mark.parametrize(("role", "allowed"), CREATORS)
def test_creating_needs_the_trader_role(world, role, allowed):
    client = session_client(world.desk.user(role))
    response = post(client, "/api/v1/backtests/", body(world.desk))
    if allowed:
        assert response.status_code == 201, response.content
        created = response.json()
        assert created["status"] == "queued"
        assert created["params"]["fast"] == 10
        assert Backtest.objects.get(pk=created["id"]).created_by == world.desk.user(role).username
    else:
        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"
        assert not Backtest.objects.exists()


def test_another_organization_is_invisible(world):
    mine = done_backtest(world.desk)
    outsider = session_client(world.other.trader)
    assert outsider.get(f"/api/v1/backtests/{mine.pk}/").status_code == 404
    assert outsider.get(f"/api/v1/backtests/{mine.pk}/export/csv/").status_code == 404
    assert outsider.get("/api/v1/backtests/").json()["results"] == []
    # Naming the other organization in a create is an invalid id, not a permission hint.
    response = post(outsider, "/api/v1/backtests/", body(world.desk))
    assert response.status_code == 400
    assert "organization" in error_of(response)["fields"]
    response = post(outsider, f"/api/v1/backtests/{mine.pk}/paper-run/", {"account": 1})
    assert response.status_code in (400, 404)
    assert not StrategyConfig.objects.exists()


def test_a_read_token_cannot_create(world):
    client = token_client(token_for(world.desk.trader, scope="read"))
    assert post(client, "/api/v1/backtests/", body(world.desk)).status_code == 403
    assert client.get("/api/v1/backtests/").status_code == 200
    trade = token_client(token_for(world.desk.trader, scope="trade"))
    assert post(trade, "/api/v1/backtests/", body(world.desk)).status_code == 201


def test_bad_input_is_a_400_naming_the_field(world):
    client = session_client(world.desk.trader)
    response = post(client, "/api/v1/backtests/", body(world.desk, params={"fast": 1}))
    assert response.status_code == 400
    assert "params.fast" in error_of(response)["fields"]
    response = post(client, "/api/v1/backtests/", body(world.desk, symbols=["NOPEUSDT"]))
    assert "symbols[0]" in error_of(response)["fields"]
    assert not Backtest.objects.exists()


def test_result_endpoints_and_exports_parse(world):
    backtest = done_backtest(world.desk)
    client = session_client(world.desk.viewer)
    detail = client.get(f"/api/v1/backtests/{backtest.pk}/").json()
    assert (detail["status"], detail["progress"]) == ("done", 100)
    assert detail["metrics"]["trades"] == len(backtest.trades)
    points = client.get(f"/api/v1/backtests/{backtest.pk}/equity/?points=100").json()
    assert 2 <= len(points) <= 102
    _times, equity = backtest.unpack_curve()
    assert points[-1]["equity"] == equity[-1]
    assert min(p["drawdown"] for p in points) == pytest.approx(backtest.metrics["max_drawdown"])
    assert client.get(f"/api/v1/backtests/{backtest.pk}/equity/?points=1").status_code == 400
    trades = client.get(f"/api/v1/backtests/{backtest.pk}/trades/").json()
    assert [t["pnl"] for t in trades] == [t["pnl"] for t in backtest.trades]

    response = client.get(f"/api/v1/backtests/{backtest.pk}/export/csv/")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    metrics = {r[1]: r[2] for r in rows if r and r[0] == "metric"}
    assert float(metrics["total_return"]) == backtest.metrics["total_return"]
    header = rows.index(list(exports.TRADE_COLUMNS))
    assert [r[6] for r in rows[header + 1 :]] == [t["pnl"] for t in backtest.trades]

    response = client.get(f"/api/v1/backtests/{backtest.pk}/export/xlsx/")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["Summary", "Trades", "Equity"]
    assert book["Trades"].max_row == len(backtest.trades) + 1
    assert book["Equity"].max_row == backtest.bars + 1

    response = client.get(f"/api/v1/backtests/{backtest.pk}/export/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page" in response.content


def test_results_of_a_running_backtest_are_a_conflict(world):
    start, end = period()
    backtest = services.create_backtest(
        actor=SYSTEM, organization=world.desk.org, environment="paper", strategy="trend_following",
        symbols=["BTCUSDT"], interval="1h", start=start, end=end,
    )  # fmt: skip
    client = session_client(world.desk.viewer)
    assert client.get(f"/api/v1/backtests/{backtest.pk}/export/csv/").status_code == 409
    assert client.get(f"/api/v1/backtests/{backtest.pk}/trades/").status_code == 409


def test_paper_run_from_a_result(world):
    backtest = done_backtest(world.desk)
    paper = make_account(world.desk.org, environment="paper")
    viewer = session_client(world.desk.viewer)
    url = f"/api/v1/backtests/{backtest.pk}/paper-run/"
    assert post(viewer, url, {"account": paper.pk}).status_code == 403
    trader = session_client(world.desk.trader)
    response = post(trader, url, {"account": paper.pk, "name": "from backtest"})
    assert response.status_code == 201, response.content
    config = StrategyConfig.objects.get(pk=response.json()["id"])
    assert (config.account, config.enabled, config.name) == (paper, False, "from backtest")
    assert (config.strategy, config.params, config.symbols, config.interval) == (
        backtest.strategy, backtest.params, backtest.symbols, backtest.interval,
    )  # fmt: skip
    live = make_account(world.desk.org, environment="live")
    response = post(trader, url, {"account": live.pk})
    assert response.status_code == 400
    assert "account" in error_of(response)["fields"]


def test_batches_through_the_api(world):
    client = session_client(world.desk.trader)
    data = body(world.desk, kind="sweep", grid={"fast": [5, 10], "slow": [30, 40, 50]})
    response = post(client, "/api/v1/backtest-batches/", data)
    assert response.status_code == 201, response.content
    batch = response.json()
    assert (batch["kind"], len(batch["runs"])) == ("sweep", 6)
    listed = session_client(world.desk.viewer).get(f"/api/v1/backtests/?batch={batch['id']}")
    assert len(listed.json()["results"]) == 6
    assert (
        session_client(world.other.admin)
        .get(f"/api/v1/backtest-batches/{batch['id']}/")
        .status_code
        == 404
    )
    assert (
        post(session_client(world.desk.viewer), "/api/v1/backtest-batches/", data).status_code
        == 403
    )
    wf = body(world.desk, kind="walk_forward", grid={"fast": [5, 10]}, folds=2)
    assert post(client, "/api/v1/backtest-batches/", wf).json()["kind"] == "walk_forward"
    ab = body(world.desk, kind="compare", variant={"params": {"fast": 20, "slow": 60}})
    response = post(client, "/api/v1/backtest-batches/", ab)
    assert response.status_code == 201
    assert BacktestBatch.objects.get(pk=response.json()["id"]).runs.count() == 2


def test_an_oversized_grid_is_refused_by_its_size_before_it_is_expanded(world):
    client = session_client(world.desk.trader)
    values = list(range(2, 102))  # 100 values each: a million combinations
    data = body(world.desk, kind="sweep", grid={"fast": values, "slow": values, "atr": values})
    response = post(client, "/api/v1/backtest-batches/", data)
    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "grid": ["must expand to at most 500 combinations (this one: 1000000)"]
    }
    assert not BacktestBatch.objects.exists()


def test_a_variant_overrides_only_the_parameters_it_names(world):
    client = session_client(world.desk.trader)
    base = body(world.desk, kind="compare", variant={"params": {"fast": 7}})
    base["params"] = {"fast": 12, "slow": 40}
    response = post(client, "/api/v1/backtest-batches/", base)
    assert response.status_code == 201, response.content
    a, b = BacktestBatch.objects.get(pk=response.json()["id"]).runs.order_by("pk")
    assert a.params["slow"] == b.params["slow"] == 40  # not named: A's value
    assert (a.params["fast"], b.params["fast"]) == (12, 7)


def test_parameter_grid_counts_before_it_builds():
    big = {name: list(range(10_000)) for name in ("a", "b", "c")}  # 10^12 combinations
    with pytest.raises(ValueError, match=r"at most 500 combinations \(this one: 1000000000000\)"):
        parameter_grid(big, limit=500)
    assert len(parameter_grid({"a": [1, 2], "b": [3]}, limit=2)) == 2


# --- admin -----------------------------------------------------------------------------


def _staff(user, *codenames):
    user.is_staff = True
    user.save()
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_admin_result_page_charts_exports_and_scoping(world, client):
    backtest = done_backtest(world.desk)
    otp_login(client, _staff(world.desk.viewer, "view_backtest"))
    page = client.get(f"/admin/backtest/backtest/{backtest.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'role="img" aria-label="Equity"' in text  # the server-side SVG charts
    assert 'role="img" aria-label="Drawdown"' in text
    assert "<polyline" in text
    assert 'http-equiv="refresh"' not in text  # done: no more refreshing
    export = client.get(f"/admin/backtest/backtest/{backtest.pk}/export/xlsx/")
    assert export.status_code == 200
    load_workbook(io.BytesIO(export.content))
    outsider = _staff(world.other.admin, "view_backtest")
    client.force_login(outsider)
    otp_login(client, outsider)
    assert client.get(f"/admin/backtest/backtest/{backtest.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/backtest/backtest/{backtest.pk}/export/csv/").status_code == 404


def test_admin_creates_a_backtest_through_the_service(world, client):
    trader = _staff(world.desk.trader, "view_backtest", "add_backtest")
    otp_login(client, trader)
    start, end = period()
    form = {
        "organization": world.desk.org.pk, "name": "", "strategy": "trend_following",
        "params": json.dumps(PARAMS), "symbols_text": "BTCUSDT", "interval": "1h",
        "environment": "paper", "start_0": start.strftime("%Y-%m-%d"),
        "start_1": start.strftime("%H:%M:%S"), "end_0": end.strftime("%Y-%m-%d"),
        "end_1": end.strftime("%H:%M:%S"), "fill_mode": "intrabar", "commission": "0.001",
        "slippage": "0", "initial_cash": "5000",
    }  # fmt: skip
    response = client.post("/admin/backtest/backtest/add/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    backtest = Backtest.objects.get()
    assert (backtest.fill_mode, backtest.initial_cash, backtest.created_by) == (
        "intrabar", 5000, trader.username,
    )  # fmt: skip
    page = client.get(f"/admin/backtest/backtest/{backtest.pk}/change/")
    # Queued: the page follows the run live (backtest.js), it does not refresh itself.
    assert 'http-equiv="refresh"' not in page.content.decode()
    assert f'data-backtest-id="{backtest.pk}" data-status="queued"' in page.content.decode()
    form["symbols_text"] = "NOPEUSDT"
    response = client.post("/admin/backtest/backtest/add/", form)
    assert response.status_code == 200
    assert "not a known symbol" in response.content.decode()
    assert Backtest.objects.count() == 1


# --- go-live criteria ------------------------------------------------------------------


def _request(desk, backtest, **kw):
    live = SimpleNamespace(organization_id=desk.org.pk)
    fields = {"strategy": backtest.strategy, "strategy_version": backtest.strategy_version,
              "params": backtest.params, "symbols": backtest.symbols,
              "interval": backtest.interval, "live_account": live}  # fmt: skip
    return SimpleNamespace(**(fields | kw))


def test_criteria_are_set_by_the_risk_role_and_checked(world):
    backtest = done_backtest(world.desk)
    request = _request(world.desk, backtest)
    assert backtest_checklist_items(request) == []  # no criteria: nothing added
    with pytest.raises(PermissionDenied):
        services.set_backtest_criteria(
            actor=verified(world.desk.trader), organization=world.desk.org, min_sharpe="0"
        )
    with pytest.raises(ValidationError) as caught:
        services.set_backtest_criteria(
            actor=verified(world.desk.risk_officer), organization=world.desk.org,
            max_drawdown="2",
        )  # fmt: skip
    assert caught.value.field == "max_drawdown"
    days = (backtest.end - backtest.start) // timedelta(days=1)
    services.set_backtest_criteria(
        actor=verified(world.desk.risk_officer), organization=world.desk.org,
        min_trades=1, min_sharpe="-100", max_drawdown="0.99", min_period_days=days,
    )  # fmt: skip
    items = {i.key: i for i in backtest_checklist_items(request)}
    assert set(items) == {"backtest", "backtest_sharpe", "backtest_trades", "backtest_max_drawdown"}
    assert all(i.met for i in items.values()), items
    assert str(backtest.pk) in items["backtest"].value

    services.set_backtest_criteria(
        actor=verified(world.desk.admin), organization=world.desk.org,
        min_trades=backtest.metrics["trades"] + 1,
    )  # fmt: skip
    items = {i.key: i for i in backtest_checklist_items(request)}
    assert not items["backtest_trades"].met
    other_params = _request(world.desk, backtest, params={**backtest.params, "fast": 11})
    items = {i.key: i for i in backtest_checklist_items(other_params)}
    assert not items["backtest"].met
    assert items["backtest_sharpe"].value == "no data"
    services.set_backtest_criteria(
        actor=verified(world.desk.admin), organization=world.desk.org, min_period_days=days + 1
    )
    assert not {i.key: i for i in backtest_checklist_items(request)}["backtest"].met
    # The go-live checklist itself carries these items (registered by the backtest app).
    from apps.trading.golive import EXTRA_CHECKLIST_ITEMS

    assert backtest_checklist_items in EXTRA_CHECKLIST_ITEMS
