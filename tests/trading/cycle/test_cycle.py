"""The group cycle in-process against the paper exchange: a breakout candle becomes a
filled entry, every evaluation one Decision; redelivery, stale triggers and a busy
account change nothing they must not."""

from decimal import Decimal

import pytest

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.exchange.for_account import gateway_for_account
from apps.trading.cycle.group import run_group
from apps.trading.locks import AccountLock, Claim, TriggerGuard
from apps.trading.models import Decision, Order, Position
from apps.trading.states import OrderStatus

from .support import (
    BREAKOUT,
    MINUTE_MS,
    breakout_klines,
    enabled_config,
    kline,
    last_closed_open_ms,
    market_price,
    store_klines,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def breakout(paper_account):
    """(configs, open_ms): two accounts on one breakout candle of BTCUSDT 1m."""

    def make(n=2, *, open_ms=None, cache=True, **options):
        configs = [enabled_config(paper_account({"USDT": "10000"}), **options) for _ in range(n)]
        open_ms = last_closed_open_ms() if open_ms is None else open_ms
        price = market_price(gateway_for_account(configs[0].account))
        store_klines("paper", "BTCUSDT", "1m", breakout_klines(price, open_ms), cache=cache)
        return configs, open_ms

    return make


def _run(configs, open_ms, **kwargs):
    return run_group(
        environment="paper",
        symbol="BTCUSDT",
        interval="1m",
        open_time_ms=open_ms,
        config_ids=[c.pk for c in configs],
        **kwargs,
    )


def test_a_breakout_enters_every_account_once_with_one_decision_each(breakout):
    configs, open_ms = breakout()

    report = _run(configs, open_ms)

    assert report.signal == "enter_long"
    assert report.counts == {"evaluated": 2}
    for config in configs:
        decision = Decision.objects.get(strategy_config=config)
        assert decision.signal == "enter_long"
        assert decision.outcome in ("approved", "resized")
        assert decision.inputs["trigger"] == f"BTCUSDT:1m:{open_ms}"
        assert Decimal(decision.inputs["account"]["equity"]) == Decimal("10000")
        assert {v["rule"] for v in decision.risk_verdict["verdicts"]} >= {"max_drawdown", "sizing"}
        order = Order.objects.get(strategy_config=config, intent="entry")
        assert order.decision_id == decision.pk
        assert decision.orders_placed == [order.client_order_id]
        assert (order.intent, order.side, order.order_type) == ("entry", "BUY", "MARKET")
        assert order.status == OrderStatus.FILLED
        # Sized by the risk engine (a quarter of equity at most), not a fixed amount.
        assert order.quantity == Decimal(decision.risk_verdict["quantity"])
        assert order.quantity * Decimal(decision.inputs["price"]) <= Decimal("2500")
        position = Position.objects.get(strategy_config=config, status="open")
        assert position.quantity > 0
        # The risk decision's stop is the position's first stop.
        assert position.stop_price == Decimal(decision.risk_verdict["stop"])


def test_a_redelivered_trigger_places_no_second_order(breakout):
    configs, open_ms = breakout(1)
    _run(configs, open_ms)
    again = _run(configs, open_ms)
    assert again.counts == {"skipped": 1}
    assert Order.objects.filter(strategy_config=configs[0], intent="entry").count() == 1
    assert Decision.objects.filter(strategy_config=configs[0]).count() == 1


def test_a_worker_that_died_after_deciding_leaves_nothing_to_redo(breakout, redis_client):
    """Killed between recording its decision and marking the trigger done: its claim
    expires, the redelivered task retakes it and finds the decision (found by the soak:
    three configs with two decisions for one candle after a SIGKILL of the worker)."""
    configs, open_ms = breakout(1)
    config = configs[0]
    _run(configs, open_ms)
    trigger = f"BTCUSDT:1m:{open_ms}:{config.pk}"
    redis_client.delete(TriggerGuard.key(config.account_id, trigger))  # "done" never written
    again = _run(configs, open_ms)
    assert again.counts == {"skipped": 1}
    assert Decision.objects.filter(strategy_config=config).count() == 1
    assert Order.objects.filter(strategy_config=config, intent="entry").count() == 1
    assert redis_client.get(TriggerGuard.key(config.account_id, trigger)) == "done"


def test_a_retaken_trigger_without_a_decision_is_evaluated(breakout, redis_client):
    configs, open_ms = breakout(1)
    config = configs[0]
    guard = TriggerGuard(redis_client)
    trigger = f"BTCUSDT:1m:{open_ms}:{config.pk}"
    close_ms = open_ms + MINUTE_MS
    assert guard.claim(config.account_id, trigger, close_ms) is Claim.CLAIMED
    redis_client.delete(TriggerGuard.key(config.account_id, trigger))  # died before deciding
    report = _run(configs, open_ms)
    assert report.counts == {"evaluated": 1}
    assert Decision.objects.get(strategy_config=config).signal == "enter_long"


def test_the_next_candle_manages_the_open_position_instead_of_entering_again(breakout):
    configs, open_ms = breakout(1)
    _run(configs, open_ms)
    config = configs[0]
    price = market_price(gateway_for_account(config.account))
    # A quiet next candle at the market: hold the position, no second entry.
    nxt = open_ms + MINUTE_MS
    store_klines("paper", "BTCUSDT", "1m", breakout_klines(price, nxt, breakout=False))
    report = _run(configs, nxt)
    assert report.counts == {"evaluated": 1}
    assert Order.objects.filter(strategy_config=config, intent="entry").count() == 1
    latest = Decision.objects.filter(strategy_config=config).order_by("-created_at").first()
    assert latest.inputs["trigger"] == f"BTCUSDT:1m:{nxt}"
    assert latest.outcome == ""  # nothing sized: the config already holds a position
    position = Position.objects.get(strategy_config=config, status="open")
    assert position.highest_price > price  # the candle's high, persisted


def test_a_close_below_the_stop_exits_the_position_at_market(breakout):
    configs, open_ms = breakout(1)
    _run(configs, open_ms)
    config = configs[0]
    stop = Position.objects.get(strategy_config=config, status="open").stop_price
    crash = open_ms + MINUTE_MS
    low = stop * Decimal("0.98")
    store_klines("paper", "BTCUSDT", "1m", [kline(crash, stop, stop, low, low, "10")])
    _run(configs, crash)
    latest = Decision.objects.filter(strategy_config=config).order_by("-created_at").first()
    assert latest.signal == "exit"
    assert any(a["kind"] == "exit_all" for a in latest.exits)
    assert not Position.objects.filter(strategy_config=config, status="open").exists()
    sells = Order.objects.filter(strategy_config=config, side="SELL", status=OrderStatus.FILLED)
    assert sells.exists()


def test_a_stale_trigger_is_refused_with_its_reason_recorded_once(breakout):
    open_ms = last_closed_open_ms() - 10 * MINUTE_MS  # closed ~10 minutes ago (> 120 s)
    configs, _ = breakout(1, open_ms=open_ms)
    first = _run(configs, open_ms)
    second = _run(configs, open_ms)
    assert first.counts == {"stale": 1}
    assert second.counts == {"stale": 1}
    decision = Decision.objects.get(strategy_config=configs[0])
    assert decision.inputs["skipped"].startswith("stale trigger")
    assert not Order.objects.filter(strategy_config=configs[0]).exists()


def test_a_busy_account_is_not_evaluated_until_its_lock_is_free(breakout, redis_client, settings):
    settings.TRADING_ACCOUNT_LOCK_WAIT_SECONDS = 0.3
    configs, open_ms = breakout(1)
    account_id = configs[0].account_id
    with AccountLock(redis_client, account_id):  # another cycle of this account runs
        busy = _run(configs, open_ms)
    assert busy.counts == {"busy": 1}
    assert busy.retry == [configs[0].pk]
    assert not Decision.objects.filter(strategy_config=configs[0]).exists()
    assert not Order.objects.exists()
    done = _run(configs, open_ms)  # the task's retry
    assert done.counts == {"evaluated": 1}
    assert Order.objects.filter(strategy_config=configs[0], intent="entry").count() == 1


def test_a_paused_account_records_why_it_did_not_enter(breakout):
    configs, open_ms = breakout(1, cache=False)  # and the candles come from the database
    ExchangeAccount.objects.filter(pk=configs[0].account_id).update(status=AccountStatus.PAUSED)
    report = _run(configs, open_ms)
    assert report.counts == {"evaluated": 1}
    decision = Decision.objects.get(strategy_config=configs[0])
    assert decision.inputs["entry_blocked"] == "account is paused"
    assert decision.inputs["candle_source"] == "database"
    assert not Order.objects.exists()


def test_a_hold_signal_writes_a_decision_and_sends_nothing(paper_account):
    config = enabled_config(paper_account(), params={**BREAKOUT})
    open_ms = last_closed_open_ms()
    price = market_price(gateway_for_account(config.account))
    store_klines("paper", "BTCUSDT", "1m", breakout_klines(price, open_ms, breakout=False))
    report = _run([config], open_ms)
    assert report.signal == "hold"
    assert Decision.objects.get(strategy_config=config).signal == "hold"
    assert not Order.objects.exists()


def test_a_quiet_candle_records_without_waiting_for_the_accounts_lock(paper_account, redis_client):
    config = enabled_config(paper_account(), params={**BREAKOUT})
    open_ms = last_closed_open_ms()
    price = market_price(gateway_for_account(config.account))
    store_klines("paper", "BTCUSDT", "1m", breakout_klines(price, open_ms, breakout=False))
    # Another cycle of the account holds its lock: a hold with nothing to manage only
    # writes its decision, so it does not wait for it (the fan-out's common case).
    with AccountLock(redis_client, config.account_id, wait=0):
        report = _run([config], open_ms)
    assert report.counts == {"evaluated": 1}
    assert Decision.objects.get(strategy_config=config).signal == "hold"


def test_a_quiet_candle_with_a_position_to_manage_waits_for_the_lock(breakout, redis_client):
    configs, open_ms = breakout(1)
    _run(configs, open_ms)  # the entry
    assert Position.objects.filter(strategy_config=configs[0], status="open").exists()
    next_open = open_ms + MINUTE_MS
    price = Position.objects.get(strategy_config=configs[0]).average_entry_price
    store_klines("paper", "BTCUSDT", "1m", [kline(next_open, price, price, price, price, "10")])
    with AccountLock(redis_client, configs[0].account_id, wait=0):
        busy = _run(configs, next_open)
    assert busy.counts == {"busy": 1}
    assert _run(configs, next_open).counts == {"evaluated": 1}
