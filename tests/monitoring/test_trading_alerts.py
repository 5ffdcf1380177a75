"""Trading alerts: opt-in fill notifications, the risk engine's daily-loss and drawdown
triggers, order error rates, slow exchange samples, process memory and statistical
anomalies, each once per episode."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from apps.accounts.actors import Actor
from apps.monitoring import health_alerts, trading_alerts
from apps.monitoring.anomaly import is_anomaly, z_score
from apps.monitoring.anomaly_watch import observe
from apps.monitoring.models import Alert, NotificationRoute
from apps.monitoring.notifications.routing import matching_routes
from apps.monitoring.notifications.services import save_route
from apps.risk.engine.decision import Outcome, RiskDecision, RuleVerdict
from apps.strategies.engine.signals import Action, Signal
from apps.trading.models import Order
from apps.trading.services import create_order, record_decision
from apps.trading.states import OrderStatus
from tests.monitoring.scrape import sample
from tests.trading.support import (
    active_account,
    fill,
    make_config,
    order_for,
    sync_default_symbols,
)

D = Decimal
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def alerts(event: str) -> list[Alert]:
    return list(Alert.objects.filter(event=event).order_by("pk"))


# --- z-scores (pure) -------------------------------------------------------------------
def test_z_score_of_an_outlier_and_of_the_ordinary():
    history = [100.0, 102.0, 98.0, 101.0, 99.0] * 6
    assert z_score(history, 100.0) == pytest.approx(0.0)
    assert z_score(history, 110.0) > 3
    assert z_score(history, 90.0) < -3
    assert z_score(history[:10], 500.0) is None  # too few observations to judge
    assert z_score([5.0] * 40, 9.0) is None  # no spread: nothing is unusual
    assert not is_anomaly(None, 3.0)
    assert is_anomaly(-3.5, 3.0)
    assert not is_anomaly(2.9, 3.0)


@given(
    # Whole numbers: a spread of denormal floats vanishes under x * 3 + 7.
    st.lists(st.integers(-(10**6), 10**6).map(float), min_size=20, max_size=60),
    st.integers(-(10**6), 10**6).map(float),
)
def test_z_score_is_symmetric_and_scale_free(history, value):
    z = z_score(history, value)
    if z is None:
        return
    mirrored = z_score([-x for x in history], -value)
    assert mirrored == pytest.approx(-z, rel=1e-6, abs=1e-6)
    scaled = z_score([x * 3 + 7 for x in history], value * 3 + 7)
    assert scaled == pytest.approx(z, rel=1e-5, abs=1e-5)


@pytest.mark.django_db
def test_an_anomalous_latency_is_alerted_against_the_rolling_window(redis_client, settings):
    settings.ANOMALY_MIN_SAMPLES = 20
    for i in range(30):
        assert not is_anomaly(observe("order_latency", "paper", 0.10 + (i % 5) * 0.01), 3.0)
    assert alerts("anomaly_order_latency") == []

    z = observe("order_latency", "paper", 0.9)

    assert z > 3
    (alert,) = alerts("anomaly_order_latency")
    assert alert.severity == "warning"
    assert alert.context["series"] == "paper"
    assert alert.context["z_score"] == round(z, 2)
    assert redis_client.llen("spotdesk:anomaly:order_latency:paper") == 31
    from prometheus_client import REGISTRY, generate_latest

    assert sample(generate_latest(REGISTRY).decode(), "spotdesk_anomalies_total",
                  kind="order_latency") >= 1  # fmt: skip


# --- fills: opt-in -----------------------------------------------------------------------
def _route(organization, events):
    return save_route(
        actor=Actor.for_system(),
        route=NotificationRoute(),
        data={"organization": organization, "name": f"hook {events}", "channel": "webhook",
              "target": {"url": "http://127.0.0.1:9/hook"}, "events": events,
              "min_severity": "info"},
        secret="signing-key-of-the-receiver",
    )  # fmt: skip


@pytest.mark.django_db
def test_fill_alerts_only_for_routes_that_name_the_event(
    redis_client, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = True
    sync_default_symbols()
    account = active_account()
    config = make_config(account)
    catch_all = _route(account.organization, [])
    with django_capture_on_commit_callbacks(execute=True):
        fill(order_for(config, quantity="0.1"), price="100", quantity="0.1")
    assert alerts("trading_fill") == []  # nobody asked: not even an Alert row

    opted_in = _route(account.organization, ["trading_fill"])
    with django_capture_on_commit_callbacks(execute=True):
        fill(order_for(config, quantity="0.2"), price="101", quantity="0.2")

    (alert,) = alerts("trading_fill")
    assert alert.organization_id == account.organization_id
    assert alert.context["symbol"] == "BTCUSDT"
    assert alert.context["price"] == "101"
    assert matching_routes(alert) == [opted_in]
    assert catch_all not in matching_routes(alert)


@pytest.mark.django_db
def test_fills_are_counted_once_after_commit(redis_client, django_capture_on_commit_callbacks):
    from prometheus_client import REGISTRY, generate_latest

    sync_default_symbols()
    account = active_account()
    order = order_for(make_config(account), quantity="0.3")
    label = {"account": str(account.pk), "side": "BUY"}
    before = sample(generate_latest(REGISTRY).decode(), "spotdesk_fills_total", **label)
    with django_capture_on_commit_callbacks(execute=True):
        fill(order, price="100", quantity="0.1", trade_id=9001)
        fill(order, price="100", quantity="0.2", trade_id=9002)
        fill(order, price="100", quantity="0.1", trade_id=9001)  # the same trade again
    after = sample(generate_latest(REGISTRY).decode(), "spotdesk_fills_total", **label)
    assert after - before == 2


# --- risk triggers, from the decision record -----------------------------------------
def _decide(config, *verdicts, halt=False, minute=0):
    signal = Signal(Action.ENTER_LONG, "cross", "trend_following", "1.0", "BTCUSDT", "1h",
                    1_772_366_400_000)  # fmt: skip
    risk = RiskDecision(Outcome.REJECTED, D(0), None, None, D(0), D(0), tuple(verdicts),
                        halt=halt)  # fmt: skip
    when = T0 + timedelta(hours=minute)
    return record_decision(config=config, symbol="BTCUSDT", signal=signal, risk=risk,
                           candle_open_time=when, fingerprint="f")  # fmt: skip


DAILY_FAIL = RuleVerdict("daily_loss", False, "today's loss 2.10% reached the limit 2.00%")
DRAWDOWN_FAIL = RuleVerdict("max_drawdown", False, "drawdown 16% reached the 15% limit")
DRAWDOWN_OK = RuleVerdict("max_drawdown", True, "drawdown 3% < 15%")


@pytest.mark.django_db
def test_daily_loss_trigger_is_alerted_once_a_day(redis_client):
    sync_default_symbols()
    config = make_config(active_account())
    _decide(config, DRAWDOWN_OK, DAILY_FAIL)
    _decide(config, DRAWDOWN_OK, DAILY_FAIL, minute=1)
    (alert,) = alerts("risk_daily_loss_limit")
    assert alert.severity == "error"
    assert alert.context["account_id"] == config.account_id
    assert "2.00%" in alert.message
    assert alert.organization_id == config.account.organization_id


@pytest.mark.django_db
def test_drawdown_trigger_once_per_episode_and_not_when_the_cycle_halts(redis_client):
    sync_default_symbols()
    config = make_config(active_account())
    _decide(config, DRAWDOWN_FAIL, halt=True)  # halt mode: the cycle's halt alerts it
    assert alerts("risk_drawdown_limit") == []
    redis_client.delete(f"spotdesk:alerted:drawdown:{config.account_id}")

    _decide(config, DRAWDOWN_FAIL)  # reduce-only mode
    _decide(config, DRAWDOWN_FAIL, minute=1)
    assert len(alerts("risk_drawdown_limit")) == 1
    _decide(config, DRAWDOWN_OK, minute=2)  # recovered: the episode ends
    _decide(config, DRAWDOWN_FAIL, minute=3)
    assert len(alerts("risk_drawdown_limit")) == 2


# --- order error rate ------------------------------------------------------------------
@pytest.mark.django_db
def test_an_error_rate_above_five_percent_in_the_hour_is_alerted(redis_client, settings):
    settings.ORDER_ERROR_RATE_MIN_ORDERS = 20
    sync_default_symbols()
    noisy, fine = make_config(active_account()), make_config(active_account())
    for config, failures in ((noisy, 2), (fine, 1)):
        for i in range(20):
            order = order_for(config, quantity="0.01")
            if i < failures:
                Order.objects.filter(pk=order.pk).update(
                    status=OrderStatus.REJECTED if i % 2 == 0 else OrderStatus.UNKNOWN
                )
    old = order_for(noisy, quantity="0.01")  # outside the hour: not counted
    Order.objects.filter(pk=old.pk).update(
        status=OrderStatus.REJECTED, created_at=timezone.now() - timedelta(hours=2)
    )

    assert trading_alerts.check_order_error_rates() == [noisy.account_id]  # 2/20 = 10 %
    assert trading_alerts.check_order_error_rates() == []  # once per hour
    (alert,) = alerts("order_error_rate_high")
    assert alert.context == {"account_id": noisy.account_id, "orders": 20, "failed": 2}


# --- exchange latency and process memory ------------------------------------------------
@pytest.mark.django_db
def test_slow_exchange_samples_in_a_row_raise_one_alert(redis_client, settings):
    settings.EXCHANGE_SLOW_SAMPLES = 3

    def track(ping):
        return health_alerts.track_exchange_latency(
            {"environment": "paper", "ping_ms": ping}, redis_client
        )

    assert [track(p) for p in (600, 700, 120, 650, 900)] == [False] * 5  # a fast one resets
    assert track(800) is True
    assert track(850) is False  # the same episode
    assert track(90) is False  # fast: the episode ends
    assert [track(p) for p in (510, 520, 530)] == [False, False, True]
    assert len(alerts("exchange_latency_high")) == 2
    assert alerts("exchange_latency_high")[0].context["samples"] == 3


@pytest.mark.django_db
def test_process_memory_above_the_threshold_is_alerted_once(redis_client, settings):
    settings.PROCESS_MEMORY_ALERT_BYTES = 100 * 2**20
    check = health_alerts.check_process_memory
    assert check(hostname="w1@h", redis_client=redis_client, rss=50 * 2**20) is False
    assert check(hostname="w1@h", redis_client=redis_client, rss=150 * 2**20) is True
    assert check(hostname="w1@h", redis_client=redis_client, rss=160 * 2**20) is False
    (alert,) = alerts("process_memory_high")
    assert alert.context["rss_bytes"] == 150 * 2**20
    assert health_alerts.resident_memory_bytes() > 10 * 2**20  # this very process


def test_slippage_is_adverse_positive_for_both_sides():
    from apps.monitoring.trading_metrics import slippage_bps

    assert slippage_bps("BUY", D("100"), D("100.5")) == pytest.approx(50.0)  # paid more
    assert slippage_bps("SELL", D("100"), D("99.8")) == pytest.approx(20.0)  # got less
    assert slippage_bps("SELL", D("100"), D("100.1")) == pytest.approx(-10.0)  # better
    assert slippage_bps("BUY", D("0"), D("1")) == 0.0


@pytest.mark.django_db
def test_a_stop_that_fills_far_below_its_price_is_a_slippage_anomaly(
    redis_client, settings, django_capture_on_commit_callbacks
):
    settings.ANOMALY_MIN_SAMPLES = 20
    sync_default_symbols()
    config = make_config(active_account())
    key = "spotdesk:anomaly:slippage:paper:BTCUSDT"
    for i in range(25):  # ordinary fills: a few basis points either way
        redis_client.lpush(key, repr(float(i % 5 - 2)))
    with django_capture_on_commit_callbacks(execute=True):
        fill(order_for(config, quantity="1"), price="100", quantity="1")  # no reference
        stop, _ = create_order(account=config.account, strategy_config=config,
                               client_order_id="h10-stop-1", symbol="BTCUSDT", intent="stop",
                               order_type="STOP_LOSS", side="SELL", quantity=D("1"),
                               stop_price=D("100"))  # fmt: skip
        fill(stop, price="97", quantity="1")  # 300 bps below the stop
    (alert,) = alerts("anomaly_slippage")
    assert alert.context["value"] == pytest.approx(300.0)
    assert alert.context["series"] == "paper:BTCUSDT"
    assert redis_client.llen(key) == 26
