"""Reconciliation against the paper exchange while no user-data stream runs: what
happened on the exchange is booked, adopted or resolved once, and a second run
changes nothing. Balance differences are recorded as adjustments, never sold."""

from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.exchange.for_account import gateway_for_account
from apps.monitoring.models import Alert
from apps.trading import execution
from apps.trading.models import CashFlow, Fill, Order, Position, ReconciliationRun
from apps.trading.reconciliation import reconcile_account, run_reconciliation
from apps.trading.services import create_order
from apps.trading.states import OrderStatus
from tests.trading.support import make_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

D = Decimal


def _order(config, cid, **fields):
    fields.setdefault("intent", "entry")
    fields.setdefault("order_type", "MARKET")
    fields.setdefault("side", "BUY")
    fields.setdefault("symbol", "BTCUSDT")
    order, _ = create_order(
        account=config.account, strategy_config=config, client_order_id=cid, **fields
    )
    return order


def _place_directly(gateway, **params):
    """A signed order straight to the exchange, bypassing our services (as a person
    on the exchange's website, or a send whose answer was lost, would)."""
    return gateway.request("POST", "/api/v3/order", params, signed=True)


def _trades(gateway, symbol="BTCUSDT"):
    return gateway.request("GET", "/api/v3/myTrades", {"symbol": symbol}, signed=True)


def _price(gateway, symbol="BTCUSDT") -> Decimal:
    return D(gateway.avg_price(symbol)["price"])


def _counts_are_zero(report):
    return not any(report.counts.values()), report.counts


def test_reconciliation_books_adopts_resolves_and_is_idempotent(paper_account):
    account = paper_account({"USDT": "100000"})
    config = make_config(account)
    gateway = gateway_for_account(account)

    # 1. Our order row, sent but its answer lost: the exchange filled it, we hold `unknown`.
    lost = _order(config, "rec-lost-1", quantity="0.01")
    _place_directly(
        gateway,
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.01",
        newClientOrderId=lost.client_order_id,
    )
    Order.objects.filter(pk=lost.pk).update(status=OrderStatus.UNKNOWN)
    # 2. A row written before a crash and never sent.
    never = _order(config, "rec-never-1", quantity="0.01")
    # 3. A resting order of ours the exchange canceled (say, on the website).
    below = (_price(gateway) * D("0.8")).quantize(D("0.01"))
    resting = _order(
        config, "rec-rest-1", quantity="0.001", order_type="LIMIT", price=below, time_in_force="GTC"
    )
    assert execution.submit(resting).order.status == OrderStatus.NEW
    gateway.request(
        "DELETE",
        "/api/v3/order",
        {"symbol": "BTCUSDT", "origClientOrderId": "rec-rest-1"},
        signed=True,
    )
    # 4. Orders placed outside Spotdesk: one filled, one still open.
    _place_directly(
        gateway,
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.002",
        newClientOrderId="manual-fill-1",
    )
    _place_directly(
        gateway,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        quantity="0.001",
        price=str(below),
        timeInForce="GTC",
        newClientOrderId="manual-open-1",
    )

    report = run_reconciliation(account.pk, trigger="test", unresolved_after=0)

    assert report.status == ReconciliationRun.Status.CORRECTED, report.findings
    lost.refresh_from_db()
    assert lost.status == OrderStatus.FILLED
    assert lost.executed_quantity == D("0.01")
    never.refresh_from_db()
    assert never.status == OrderStatus.REJECTED
    assert "never sent" in never.status_reason
    resting.refresh_from_db()
    assert resting.status == OrderStatus.CANCELED
    manual_fill = Order.objects.get(account=account, client_order_id="manual-fill-1")
    assert manual_fill.external
    assert manual_fill.strategy_config_id is None
    assert manual_fill.status == OrderStatus.FILLED
    manual_open = Order.objects.get(account=account, client_order_id="manual-open-1")
    assert manual_open.external
    assert manual_open.status == OrderStatus.NEW
    # Every trade on the exchange is booked exactly once.
    exchange_ids = sorted(int(t["id"]) for t in _trades(gateway))
    booked = sorted(
        Fill.objects.filter(account=account).values_list("exchange_trade_id", flat=True)
    )
    assert booked == exchange_ids
    # The lost entry is the position; the manual buy is reserve, attributed to nothing.
    position = Position.objects.get(account=account, status="open")
    assert position.strategy_config_id == config.pk
    assert not Fill.objects.filter(order=manual_fill).exclude(position=None).exists()
    assert report.counts["orders_adopted"] == 2
    assert AuditEvent.objects.filter(action="trading.order.adopted").count() == 2

    again = reconcile_account(account, trigger="test", unresolved_after=0)

    assert again.status == ReconciliationRun.Status.OK, again.findings
    assert _counts_are_zero(again)[0], again.counts
    assert (
        sorted(Fill.objects.filter(account=account).values_list("exchange_trade_id", flat=True))
        == booked
    )
    # The second run added no order: only the five of the story, and the protection
    # (one OCO) the first run gave the position it booked.
    orders = Order.objects.filter(account=account)
    assert orders.exclude(intent__in=["stop", "take_profit"]).count() == 5
    protection = orders.filter(intent__in=["stop", "take_profit"], position=position)
    assert protection.filter(intent="stop", status=OrderStatus.NEW).exists()
    assert not CashFlow.objects.filter(account=account).exists()


def test_young_unknown_order_waits_for_the_grace_period(paper_account):
    config = make_config(paper_account())
    young = _order(config, "rec-young-1", quantity="0.01")
    report = reconcile_account(config.account, unresolved_after=3600)
    young.refresh_from_db()
    assert young.status == OrderStatus.PENDING
    assert report.counts["orders_resolved"] == 0


def test_fills_booked_late_explain_balances_and_a_deposit_becomes_an_adjustment(
    paper_account, exchange_admin
):
    account = paper_account({"USDT": "100000"})
    config = make_config(account)
    gateway = gateway_for_account(account)
    reconcile_account(account)  # the baseline

    # Our own trades since the baseline, booked at once: balances are fully explained.
    buy = execution.submit(_order(config, "rec-bal-buy", quantity="0.01")).order
    assert buy.status == OrderStatus.FILLED
    sell_qty = Position.objects.get(account=account, status="open").quantity
    sell = execution.submit(
        _order(config, "rec-bal-sell", side="SELL", intent="exit", quantity=sell_qty)
    ).order
    assert sell.status == OrderStatus.FILLED
    checked = reconcile_account(account)
    assert checked.status == ReconciliationRun.Status.OK, checked.findings
    # A fill the stream missed, booked by this run: still no adjustment.
    _place_directly(
        gateway,
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.003",
        newClientOrderId="manual-late-1",
    )
    late = reconcile_account(account)
    assert late.counts["fills_booked"] >= 1, late.findings
    assert late.counts["adjustments"] == 0, late.findings

    # Money arrives while no stream runs: nothing explains it.
    usdt = D(next(b["free"] for b in gateway.account()["balances"] if b["asset"] == "USDT"))
    response = exchange_admin.session.post(
        f"{exchange_admin.url}/admin/balances",
        json={"accountId": account.paper_key["accountId"], "balances": {"USDT": str(usdt + 250)}},
        timeout=10,
    )
    response.raise_for_status()
    open_before = list(Position.objects.filter(account=account, status="open"))
    orders_before = Order.objects.filter(account=account).count()

    found = reconcile_account(account)

    assert found.status == ReconciliationRun.Status.NEEDS_REVIEW
    flow = CashFlow.objects.get(account=account)
    assert flow.kind == CashFlow.Kind.ADJUSTMENT
    assert (flow.asset, flow.amount, flow.value) == ("USDT", D(250), D(250))
    assert Alert.objects.filter(event="reconciliation_balance_unexplained").exists()
    # Never sold, never traded: the difference is a record, not an order.
    assert Order.objects.filter(account=account).count() == orders_before
    assert list(Position.objects.filter(account=account, status="open")) == open_before
    # Recorded once: the next run finds nothing new.
    quiet = reconcile_account(account)
    assert quiet.status == ReconciliationRun.Status.OK, quiet.findings
    assert CashFlow.objects.filter(account=account).count() == 1


def test_task_skips_a_busy_account_and_the_command_reports(paper_account, settings):
    from io import StringIO

    from django.core.management import call_command

    from apps.core.redis import get_redis
    from apps.trading.locks import AccountLock
    from apps.trading.reconcile_tasks import reconcile_account_task

    account = paper_account()
    with AccountLock(get_redis(), account.pk):
        busy = AccountLock(get_redis(), account.pk, wait=0)
        assert not busy.acquire()
        settings.TRADING_ACCOUNT_LOCK_WAIT_SECONDS = 0.05
        assert reconcile_account_task(account.pk) == "busy"
    assert not ReconciliationRun.objects.filter(account=account).exists()

    out = StringIO()
    call_command("reconcile", account=[account.pk], stdout=out)
    assert f"account {account.pk}: ok" in out.getvalue()
    assert ReconciliationRun.objects.filter(account=account, trigger="command").count() == 1
