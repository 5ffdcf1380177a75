"""Per-account risk from the database: equity, flow-adjusted drawdown and daily PnL,
open risk (heat) and the halted state, as /metrics exports them from any process."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.monitoring.account_risk import account_risks, largest_drawdowns, position_risk
from apps.monitoring.collectors import AccountRiskCollector
from apps.trading.models import Position
from apps.trading.services import record_cash_flow, record_equity_snapshot
from tests.monitoring.scrape import sample
from tests.trading.support import active_account, make_config, sync_default_symbols

D = Decimal
pytestmark = pytest.mark.django_db


def _today(hour: int) -> datetime:
    now = timezone.now()
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(hours=hour)


def _snap(account, when, equity):
    record_equity_snapshot(account=account, taken_at=when, equity=D(equity))


def test_position_risk_is_the_loss_down_to_the_stop_or_everything_without_one():
    assert position_risk(D("2"), D("100"), D("90"), D("1")) == D("20")
    assert position_risk(D("2"), D("100"), None, D("1")) == D("200")
    assert position_risk(D("2"), D("100"), D("110"), D("1")) == D("0")  # stop above the mark
    assert position_risk(D("2"), D("100"), D("90"), D("0.5")) == D("10")  # valued


def test_drawdown_and_daily_pnl_take_deposits_out(redis_client):
    account = active_account()
    yesterday = _today(0) - timedelta(hours=2)
    _snap(account, yesterday - timedelta(hours=1), "1000")
    _snap(account, yesterday, "1200")  # the peak
    # A deposit of 500 today is neither a gain nor the end of the drawdown.
    record_cash_flow(account=account, kind="deposit", asset="USDT", amount="500", value="500",
                     occurred_at=_today(0) + timedelta(minutes=1), external_id="dep-1")  # fmt: skip
    _snap(account, _today(0) + timedelta(minutes=2), "1580")

    (risk,) = account_risks(ExchangeAccount.objects.filter(pk=account.pk))

    assert risk.equity == D("1580")
    assert risk.peak_equity == D("1700")  # 1200 + the 500 deposited since
    assert risk.drawdown == (D("1700") - D("1580")) / D("1700")
    assert risk.day_start_equity == D("1700")  # yesterday's close, plus today's deposit
    assert risk.daily_pnl == D("-120")
    assert not risk.halted


def test_open_risk_heat_and_halted_state_reach_the_collector(redis_client):
    sync_default_symbols()
    account = active_account()
    config = make_config(account)
    _snap(account, _today(0) + timedelta(minutes=5), "10000")
    Position.objects.create(account=account, strategy_config=config, symbol="BTCUSDT",
                            base_asset="BTC", quote_asset="USDT", status="open",
                            quantity=D("0.5"), average_entry_price=D("40000"),
                            stop_price=D("38000"))  # fmt: skip
    ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.HALTED)
    idle = active_account()  # no snapshot: no equity series, but its state and risk

    registry = CollectorRegistry()
    registry.register(AccountRiskCollector())
    text = generate_latest(registry).decode()

    label = {"account": str(account.pk)}
    assert sample(text, "spotdesk_account_open_risk", **label) == 1000.0  # 0.5 * 2000
    assert sample(text, "spotdesk_account_heat_ratio", **label) == 0.1
    assert sample(text, "spotdesk_account_equity", **label) == 10000.0
    assert sample(text, "spotdesk_account_open_positions", **label) == 1.0
    assert sample(text, "spotdesk_account_halted", **label) == 1.0
    assert sample(text, "spotdesk_account_halted", account=str(idle.pk)) == 0.0
    assert f'spotdesk_account_equity{{account="{idle.pk}"}}' not in text
    assert sample(text, "spotdesk_accounts", status="halted") == 1.0
    assert sample(text, "spotdesk_accounts", status="active") == 1.0


def test_a_database_that_does_not_answer_leaves_the_families_empty(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr("apps.monitoring.account_risk.account_risks", broken)
    families = {f.name: f for f in AccountRiskCollector().collect()}
    assert "spotdesk_account_equity" in families
    assert all(not f.samples for f in families.values())


def test_largest_drawdowns_lists_only_accounts_below_their_peak(redis_client):
    deep, shallow, flat = active_account(), active_account(), active_account()
    start = _today(0) - timedelta(days=1)
    for account, values in (
        (deep, ("100", "70")),
        (shallow, ("100", "95")),
        (flat, ("100", "100")),
    ):
        _snap(account, start, values[0])
        _snap(account, start + timedelta(hours=1), values[1])
    rows = largest_drawdowns(ExchangeAccount.objects.all())
    assert [r.account_id for r in rows] == [deep.pk, shallow.pk]
    assert rows[0].drawdown == D("0.3")
    assert rows[0].drawdown_percent == "30.00"
