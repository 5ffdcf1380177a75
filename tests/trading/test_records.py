"""Cash flows, equity snapshots and decision records."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from apps.core.errors import ValidationError
from apps.risk.engine.decision import Outcome, RiskDecision, RuleVerdict
from apps.strategies.engine.signals import Action, Signal
from apps.trading.models import CashFlow, Decision, Order
from apps.trading.services import (
    record_cash_flow,
    record_decision,
    record_equity_snapshot,
)
from tests.trading.support import active_account, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db
D = Decimal
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def config():
    sync_default_symbols()
    return make_config(active_account())


def test_cash_flows_are_recorded_once_and_feed_snapshots(config):
    account = config.account
    flow, created = record_cash_flow(
        account=account, kind="deposit", asset="usdt", amount="1000", value="1000",
        occurred_at=T0, external_id="USDT:1700000000000", source="balance_update",
    )  # fmt: skip
    again, created_again = record_cash_flow(
        account=account, kind="deposit", asset="USDT", amount="1000", value="1000",
        occurred_at=T0, external_id="USDT:1700000000000",
    )  # fmt: skip
    assert created
    assert not created_again
    assert flow.pk == again.pk
    assert flow.asset == "USDT"
    record_cash_flow(
        account=account, kind="withdrawal", asset="USDT", amount="-300", value="-300",
        occurred_at=T0 + timedelta(hours=2), external_id="USDT:2",
    )  # fmt: skip
    snapshot, _ = record_equity_snapshot(account=account, taken_at=T0 + timedelta(hours=1),
                                         equity="1050")  # fmt: skip
    assert snapshot.net_flows == D("1000")
    later, _ = record_equity_snapshot(account=account, taken_at=T0 + timedelta(hours=3),
                                      equity="760")  # fmt: skip
    assert later.net_flows == D("700")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"kind": "withdrawal"}, "amount"),  # a withdrawal of +1000
        ({"kind": "gift"}, "kind"),
        ({"amount": 1000.0}, "amount"),
        ({"occurred_at": datetime(2026, 3, 1)}, "occurred_at"),
    ],
)
def test_bad_cash_flows_name_the_field(config, changes, field):
    kwargs = dict(
        account=config.account, kind="deposit", asset="USDT", amount="1000", value="1000",
        occurred_at=T0, external_id="x",
    )  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        record_cash_flow(**{**kwargs, **changes})
    assert caught.value.field == field
    assert not CashFlow.objects.exists()


def test_a_decision_keeps_every_rule_and_its_reason(config):
    signal = Signal(
        action=Action.ENTER_LONG, reason="fast EMA crossed above slow", strategy="trend_following",
        version="1.0", symbol="BTCUSDT", interval="1h", candle_time=1_772_366_400_000,
        stop=D("95.5"), target=D("120"), indicators={"ema_fast": 101.5, "adx": float("nan")},
    )  # fmt: skip
    risk = RiskDecision(
        outcome=Outcome.REJECTED, quantity=D(0), stop=D("95.5"), target=D("120"),
        risk_amount=D(0), notional=D(0),
        verdicts=(RuleVerdict("daily_loss", False, "today's loss 2.1% reached the 2% limit"),
                  RuleVerdict("max_positions", True, "1 of 5 open")),
    )  # fmt: skip
    order = order_for(config)
    decision = record_decision(
        config=config, symbol="BTCUSDT", candle_open_time=T0, signal=signal,
        fingerprint="abc123", inputs={"close": D("101.2"), "equity": D("1000")}, risk=risk,
        orders=[order.client_order_id],
    )  # fmt: skip
    Order.objects.filter(pk=order.pk).update(decision=decision)
    stored = Decision.objects.get(pk=decision.pk)
    assert stored.signal == Action.ENTER_LONG.value
    assert stored.outcome == "rejected"
    rules = {v["rule"]: v for v in stored.risk_verdict["verdicts"]}
    assert rules["daily_loss"]["passed"] is False
    assert "2% limit" in rules["daily_loss"]["reason"]
    assert stored.indicators == {"ema_fast": 101.5, "adx": None}
    assert stored.inputs["close"] == "101.2"  # Decimal as text, never a float
    assert stored.inputs["signal"]["stop"] == "95.5"
    assert stored.strategy_version == "1.0"
    assert stored.orders_placed == [order.client_order_id]
    assert Order.objects.get(pk=order.pk).decision == stored


def test_decisions_are_partitioned_by_month_on_postgresql(config):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
        )
        partitioned = {row[0] for row in cursor.fetchall()}
    assert {"trading_decision", "marketdata_candle"} <= partitioned
    signal = Signal(Action.HOLD, "warming up", "trend_following", "1.0", "BTCUSDT", "1h", None)
    decision = record_decision(config=config, symbol="BTCUSDT", candle_open_time=T0,
                               signal=signal, fingerprint="f")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM trading_decision WHERE id = %s", [decision.pk]
        )
        where = cursor.fetchone()[0]
    assert where == f"trading_decision_p{decision.created_at:%Y%m}"
