"""Trading reads and strategy configurations over the API: filters, ordering, cursor
pages, validation errors naming the field, writes audited, and KPIs equal to a hand
computation."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.strategies.engine.signals import Action, Signal
from apps.strategies.models import StrategyConfig
from apps.trading.models import Trade
from apps.trading.services import record_cash_flow, record_decision, record_equity_snapshot
from tests.api.conftest import error_of, session_client
from tests.api.trading_world import TradingWorld, round_trip
from tests.trading.support import make_config

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world():
    return TradingWorld()


def _fields(response) -> dict:
    assert response.status_code == 400, response.content
    return error_of(response)["fields"]


# --- reads: filters, ordering, pages ------------------------------------------------


def test_orders_filter_by_account_status_side_and_time(world):
    client = session_client(world.desk.viewer)
    rows = client.get(f"/api/v1/orders/?account={world.account.pk}&side=SELL").json()["results"]
    assert [r["id"] for r in rows] == [world.exit.pk]
    assert rows[0]["status"] == "filled"
    assert D(rows[0]["quantity"]) == D(1)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/orders/?since={future}").json()["results"] == []
    assert _fields(client.get("/api/v1/orders/?status=lost")) == {
        "status": ["must be one of " + ", ".join(_order_statuses())]
    }
    assert "since" in _fields(client.get("/api/v1/orders/?since=yesterday"))
    # An offset PostgreSQL cannot store is refused here, not by the database (500).
    assert _fields(client.get("/api/v1/orders/?until=0207-03-29T03:18:56-22:55")) == {
        "until": ["must have a time zone offset within ±14:00"]
    }
    assert "ordering" in _fields(client.get("/api/v1/orders/?ordering=price"))


def _order_statuses():
    from apps.trading.states import OrderStatus

    return OrderStatus.values


def test_fills_and_trades_carry_decimal_strings_and_filter_by_order(world):
    client = session_client(world.desk.viewer)
    (row,) = client.get(f"/api/v1/fills/?order={world.entry.pk}").json()["results"]
    assert D(row["price"]) == D(100)
    assert isinstance(row["quantity"], str)
    (trade,) = client.get(f"/api/v1/trades/?strategy_config={world.config.pk}").json()["results"]
    assert D(trade["exit_price"]) == D(110)
    assert D(trade["realized_pnl_value"]) > 0


def test_fills_page_by_cursor_without_repeats(world):
    for _ in range(2):
        round_trip(world.config, buy="100", sell="101")
    client = session_client(world.desk.viewer)
    seen, url = [], f"/api/v1/fills/?account={world.account.pk}&page_size=2&ordering=-executed_at"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert len(seen) == 6 == len(set(seen))
    assert _fields(client.get("/api/v1/fills/?page_size=0")) == {
        "page_size": ["must be a whole number from 1 to 200"]
    }


def test_decisions_filter_by_account_and_time_range_and_page_by_created_at(world):
    signal = Signal(Action.HOLD, "flat", "trend_following", "1.0", "BTCUSDT", "1h", None)
    made = [
        record_decision(
            config=world.config,
            symbol="BTCUSDT",
            signal=signal,
            fingerprint="f",
            candle_open_time=datetime(2026, 1, 1, hour, tzinfo=UTC),
        )
        for hour in (1, 2, 3)
    ]
    client = session_client(world.desk.viewer)
    base = f"/api/v1/decisions/?account={world.account.pk}"
    newest_first = [r["id"] for r in client.get(base).json()["results"]]
    assert newest_first[:3] == [d.pk for d in reversed(made)]
    since = made[1].created_at.isoformat()
    ranged = client.get(base + f"&since={since.replace('+00:00', 'Z')}").json()["results"]
    assert [r["id"] for r in ranged] == [made[2].pk, made[1].pk]
    first = client.get(base + "&page_size=2").json()
    assert len(first["results"]) == 2
    assert first["next"]
    rest = client.get(first["next"]).json()["results"]
    assert {r["id"] for r in rest}.isdisjoint({r["id"] for r in first["results"]})
    assert ranged[0]["signal"] == "hold"
    assert ranged[0]["risk_verdict"] == {}


# --- strategy configurations -------------------------------------------------------


def _create(client, world, **overrides):
    body = {
        "account": world.account.pk,
        "name": "api config",
        "strategy": "trend_following",
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "interval": "4h",
        "params": {"fast": 10, "slow": 30},
        **overrides,
    }
    return client.post("/api/v1/strategy-configs/", body, content_type="application/json")


def test_config_create_validates_against_the_strategys_schema_and_is_audited(world):
    client = session_client(world.desk.trader)
    before = StrategyConfig.objects.count()
    assert set(_fields(_create(client, world, params={"fast": 1, "bogus": 2}))) == {
        "params.fast",
        "params.bogus",
    }
    assert set(_fields(_create(client, world, symbols=["BTCUSDT", "NOPE"]))) == {"symbols[1]"}
    assert set(_fields(_create(client, world, strategy="astrology"))) == {"strategy"}
    assert set(_fields(_create(client, world, interval="7m"))) == {"interval"}
    assert set(_fields(_create(client, world, name=""))) == {"name"}
    assert StrategyConfig.objects.count() == before  # nothing saved

    created = _create(client, world)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["enabled"] is False  # starts paused
    assert body["params"]["fast"] == 10
    assert body["params"]["adx_period"] == 14
    event = AuditEvent.objects.get(action="strategy_config.created", object_id=str(body["id"]))
    assert event.actor_username == world.desk.trader.username
    duplicate = _create(client, world)
    assert _fields(duplicate) == {"name": ["must be unique within the account"]}


def test_config_update_pause_and_resume_go_through_the_service(world):
    client = session_client(world.desk.trader)
    url = f"/api/v1/strategy-configs/{world.config.pk}/"
    assert set(_fields(client.patch(url, {"params": {"slow": 1}}, "application/json"))) == {
        "params.slow"
    }
    changed = client.patch(url, {"params": {"slow": 50}, "interval": "15m"}, "application/json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["params"]["slow"] == 50
    assert changed.json()["interval"] == "15m"
    assert AuditEvent.objects.filter(action="strategy_config.updated").count() == 1

    resumed = client.post(url + "resume/")
    assert resumed.json()["enabled"] is True
    paused = client.post(url + "pause/", {"reason": "news"}, "application/json")
    assert paused.json() == {**paused.json(), "enabled": False, "paused_reason": "news"}
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"strategy_config.resumed", "strategy_config.paused"} <= actions
    enabled = client.get(f"/api/v1/strategy-configs/?account={world.account.pk}&enabled=false")
    assert world.config.pk in {r["id"] for r in enabled.json()["results"]}


# --- KPIs ------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_kpis_equal_a_hand_computation(world):
    account = world.account
    config = make_config(account)
    # Three round trips of 1, 2 and 3 hours; 0.1 USDT commission on each of six fills.
    for buy, sell, hours, day in (("100", "110", 1, 0), ("100", "95", 2, 1), ("100", "120", 3, 2)):
        opened = T0 + timedelta(days=day)
        round_trip(config, buy=buy, sell=sell, fee="0.1", opened_ms=_ms(opened), hours=hours)
    # Equity: a deposit of 500 between day 2 and day 3 is neither gain nor loss.
    record_cash_flow(account=account, kind="deposit", asset="USDT", amount="1000", value="1000",
                     occurred_at=T0 - timedelta(days=1), external_id="kpi-1")  # fmt: skip
    record_cash_flow(account=account, kind="deposit", asset="USDT", amount="500", value="500",
                     occurred_at=T0 + timedelta(days=2, hours=6), external_id="kpi-2")  # fmt: skip
    points = [
        (T0, "1000"),
        (T0 + timedelta(days=1, hours=-6), "950"),  # intraday: not a daily close
        (T0 + timedelta(days=1), "1100"),
        (T0 + timedelta(days=2), "1045"),
        (T0 + timedelta(days=3), "1645"),
        (T0 + timedelta(days=4), "1480.5"),
    ]
    for when, equity in points:
        record_equity_snapshot(account=account, taken_at=when, equity=equity)

    since, until = T0 - timedelta(hours=1), T0 + timedelta(days=4, hours=1)
    client = session_client(world.desk.viewer)
    query = f"?strategy_config={config.pk}&since={_iso(since)}&until={_iso(until)}"
    response = client.get(f"/api/v1/kpis/{account.pk}/{query}")
    assert response.status_code == 200, response.content
    kpis = response.json()

    pnls = [t.realized_pnl_value for t in Trade.objects.filter(strategy_config=config)]
    wins = [p for p in pnls if p > 0]
    losses = [-p for p in pnls if p < 0]
    assert len(pnls) == 3
    assert len(wins) == 2
    assert kpis["trades"] == 3
    assert D(kpis["win_rate"]) == (D(2) / D(3)).quantize(D("0.000001"))
    assert D(kpis["profit_factor"]) == (sum(wins) / sum(losses)).quantize(D("0.000001"))
    assert D(kpis["expectancy"]) == (sum(pnls) / 3).quantize(D("0.00000001"))
    assert D(kpis["net_pnl"]) == sum(pnls)
    assert kpis["average_trade_seconds"] == 2 * 3600
    assert D(kpis["fees_paid"]) == D("0.6")

    # Daily closes 1000, 1100, 1045, 1645 (500 deposited), 1480.5.
    returns = [1100 / 1000 - 1, 1045 / 1100 - 1, (1645 - 500) / 1045 - 1, 1480.5 / 1645 - 1]
    mean = sum(returns) / 4
    spread = math.sqrt(sum((r - mean) ** 2 for r in returns) / 3)
    downside = math.sqrt(sum(min(r, 0) ** 2 for r in returns) / 4)
    assert abs(D(kpis["sharpe"]) - D(repr(mean / spread * math.sqrt(365)))) < D("0.000002")
    assert abs(D(kpis["sortino"]) - D(repr(mean / downside * math.sqrt(365)))) < D("0.000002")
    # Unit values 1, 0.95, 1.1, 1.045, 1.145, 1.0305: the worst fall is 1.145 -> 1.0305.
    assert abs(D(kpis["max_drawdown"]) - D("0.1")) < D("0.000001")
    assert kpis["equity_snapshots"] == 6


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_kpis_refuse_bad_periods_and_foreign_configs(world):
    client = session_client(world.desk.viewer)
    url = f"/api/v1/kpis/{world.account.pk}/"
    assert _fields(client.get(url + f"?since={_iso(T0)}&until={_iso(T0)}")) == {
        "since": ["must be before until"]
    }
    elsewhere = make_config(world.spare)
    assert _fields(client.get(url + f"?strategy_config={elsewhere.pk}")) == {
        "strategy_config": ["must be a configuration of this account"]
    }
    assert "until" in _fields(client.get(url + "?until=soon"))
    empty = client.get(f"/api/v1/kpis/{world.live.pk}/").json()
    assert empty["trades"] == 0
    assert empty["win_rate"] is None
    assert empty["sharpe"] is None
