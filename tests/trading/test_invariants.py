"""Each invariant check of apps/trading/invariants.py finds the violation it is built for,
created for real (orders on the paper exchange, rows through the services, a tampered
audit row), and finds nothing once the state is sound again."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from apps.audit.services import record_event
from apps.exchange.for_account import gateway_for_account
from apps.risk.engine.config import ExitConfig
from apps.strategies.engine.signals import Action, Signal
from apps.trading import execution, invariants
from apps.trading.models import Order, Position
from apps.trading.protection import sync_protection
from apps.trading.reconciliation import reconcile_account
from apps.trading.services import create_order, record_decision
from apps.trading.states import OrderStatus
from tests.trading.support import make_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

D = Decimal
FUNDED = {"USDT": D("10000"), "BTC": D("0.5")}


def _view(account):
    return invariants.exchange_view(
        account, gateway=gateway_for_account(account), symbols=["BTCUSDT"]
    )


def _account(paper_account):
    return paper_account({asset: str(amount) for asset, amount in FUNDED.items()})


def _entry(config, quantity="0.002"):
    order, _ = create_order(
        account=config.account,
        strategy_config=config,
        client_order_id=f"inv-{config.pk}",
        symbol="BTCUSDT",
        intent="entry",
        order_type="MARKET",
        side="BUY",
        quantity=D(quantity),
    )
    assert execution.submit(order).order.status == OrderStatus.FILLED
    return Position.objects.get(strategy_config=config, status="open")


def _direct_buy(account, client_id, quantity="0.001"):
    """An order sent straight to the exchange, past Spotdesk (nothing booked)."""
    gateway_for_account(account).request(
        "POST",
        "/api/v3/order",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": quantity,
         "newClientOrderId": client_id},
        signed=True,
        group="trading",
    )  # fmt: skip


def test_a_client_id_sent_twice_and_two_rows_for_one_exchange_order_are_duplicates(
    paper_account,
):
    account = _account(paper_account)
    config = make_config(account, interval="1m")
    _entry(config)
    assert invariants.duplicate_orders([_view(account)], [config.pk]) == []

    # Binance accepts the client id of a closed order again: a blind resend doubles it.
    entry = Order.objects.get(strategy_config=config, intent="entry")
    _direct_buy(account, entry.client_order_id)
    found = invariants.duplicate_orders([_view(account)], [config.pk])
    assert [(r["kind"], r["key"], r["count"]) for r in found] == [
        ("client id sent twice", entry.client_order_id, 2)
    ]

    # Two entries written for one decision (a cycle evaluated twice, each sending).
    signal = Signal(Action.ENTER_LONG, "breakout", "trend_following", "1.0", "BTCUSDT", "1m", None)
    decision = record_decision(config=config, symbol="BTCUSDT", signal=signal, fingerprint="f",
                               candle_open_time=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    create_order(
        account=account, strategy_config=config, client_order_id="inv-second", symbol="BTCUSDT",
        intent="entry", order_type="MARKET", side="BUY", quantity=D("0.001"),
    )  # fmt: skip
    Order.objects.filter(intent="entry", strategy_config=config).update(decision_id=decision.pk)
    found = invariants.duplicate_orders([], [config.pk])
    assert [(r["kind"], r["key"], r["count"]) for r in found] == [
        ("two entries, one decision", decision.pk, 2)
    ]


def test_an_exchange_trade_nobody_booked_is_missing_until_reconciliation_books_it(
    paper_account,
):
    account = _account(paper_account)
    make_config(account, interval="1m")
    assert invariants.missing_fills([_view(account)]) == []

    _direct_buy(account, "manual-1")
    missing = invariants.missing_fills([_view(account)])
    assert [row["symbol"] for row in missing] == ["BTCUSDT"]

    reconcile_account(account, unresolved_after=0)
    assert invariants.missing_fills([_view(account)]) == []


def test_a_position_that_is_not_the_sum_of_its_fills_is_reported(paper_account):
    account = _account(paper_account)
    config = make_config(account, interval="1m")
    position = _entry(config)
    assert invariants.position_mismatches([config.pk]) == []

    Position.objects.filter(pk=position.pk).update(quantity=position.quantity + D("0.00001"))
    found = invariants.position_mismatches([config.pk])
    assert [r["position"] for r in found] == [position.pk]


def test_balances_are_positions_plus_reserve_and_an_unbooked_trade_breaks_it(paper_account):
    account = _account(paper_account)
    config = make_config(account, interval="1m")
    funded = {account.pk: FUNDED}
    position = _entry(config)
    assert invariants.balance_mismatches([_view(account)], funded, ["BTC", "USDT"]) == []

    _direct_buy(account, "manual-2")  # the exchange moved, the database did not
    found = invariants.balance_mismatches([_view(account)], funded, ["BTC", "USDT"])
    assert {r["asset"] for r in found} == {"BTC", "USDT"}

    # Reconciliation adopts the order: its fill moves the reserve, explained again.
    reconcile_account(account, unresolved_after=0)
    assert invariants.balance_mismatches([_view(account)], funded, ["BTC", "USDT"]) == []

    Position.objects.filter(pk=position.pk).update(quantity=position.quantity - D("0.0001"))
    found = invariants.balance_mismatches([_view(account)], funded, ["BTC", "USDT"])
    assert [r["asset"] for r in found] == ["BTC"]


def test_an_open_position_without_its_stop_on_the_exchange_is_unprotected(paper_account):
    account = _account(paper_account)
    config = make_config(account, interval="1m")
    position = _entry(config, quantity="0.01")
    # After the position opened by the exchange's clock (which other tests move ahead
    # of the wall clock), not the wall clock's now.
    later = position.opened_at + timedelta(seconds=1)
    found = invariants.unprotected_positions([_view(account)], [config.pk], opened_before=later)
    assert [r["position"] for r in found] == [position.pk]
    # Younger than one cycle: not (yet) a violation.
    earlier = position.opened_at
    assert (
        invariants.unprotected_positions([_view(account)], [config.pk], opened_before=earlier) == []
    )

    stop = (position.average_entry_price * D("0.95")).quantize(D("0.01"))
    Position.objects.filter(pk=position.pk).update(stop_price=stop)
    position.refresh_from_db()
    sync_protection(
        position=position, exit_config=ExitConfig(), gateway=gateway_for_account(account)
    )
    assert (
        invariants.unprotected_positions([_view(account)], [config.pk], opened_before=later) == []
    )


def test_the_database_sample_sees_a_position_without_a_resting_stop(paper_account):
    account = _account(paper_account)
    config = make_config(account, interval="1m")
    position = _entry(config, quantity="0.01")
    later = position.opened_at + timedelta(seconds=1)

    def sample(before=later):
        return invariants.positions_without_a_resting_stop([config.pk], opened_before=before)

    assert sample() == {position.pk}
    assert sample(position.opened_at) == set()  # younger than one cycle
    stop = (position.average_entry_price * D("0.95")).quantize(D("0.01"))
    Position.objects.filter(pk=position.pk).update(stop_price=stop)
    position.refresh_from_db()
    sync_protection(
        position=position, exit_config=ExitConfig(), gateway=gateway_for_account(account)
    )
    assert sample() == set()
    # A stop that is no longer resting (cancelled, say) protects nothing.
    Order.objects.filter(position=position, intent="stop").update(status=OrderStatus.CANCELED)
    assert sample() == {position.pk}


def test_an_altered_audit_row_breaks_its_chain(paper_account):
    account = _account(paper_account)
    org_id = account.organization_id
    event = record_event(action="test.invariant", organization_id=org_id, changes={"n": 1})
    assert invariants.broken_audit_chains([org_id]) == []

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("UPDATE audit_auditevent SET action = 'changed' WHERE id = %s", [event.pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    found = invariants.broken_audit_chains([org_id])
    assert [r["chain"] for r in found] == [f"org:{org_id}"]


def test_a_candle_without_a_decision_or_with_two_for_a_config_is_reported(paper_account):
    account = _account(paper_account)
    config = make_config(account, interval="1m", strategy="breakout")
    first, second = datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    opens = [int(first.timestamp() * 1000), int(second.timestamp() * 1000)]
    signal = Signal(Action.HOLD, "flat", "breakout", "1.0", "BTCUSDT", "1m", None)

    def decide(opened, error=""):
        record_decision(config=config, symbol="BTCUSDT", signal=signal, fingerprint="f",
                        candle_open_time=opened, error=error)  # fmt: skip

    def check():
        found = invariants.candles_without_one_decision(
            [config.pk], symbol="BTCUSDT", interval="1m", open_times_ms=opens
        )
        return [(r["candle"], r["decisions"]) for r in found]

    decide(first)
    assert check() == [(second.isoformat(), 0)]
    # An attempt that failed records its reason; its retry completes the evaluation.
    decide(second, error="TemporaryExchangeError: maintenance")
    assert check() == []
    decide(second)
    assert check() == []
    decide(second)  # a redelivered task that evaluated twice
    assert check() == [(second.isoformat(), 2)]
