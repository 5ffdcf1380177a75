"""Execution primitives against the paper exchange: an order is written, sent once,
and what the exchange reports (status, fills) is booked exactly once."""

from decimal import Decimal

import pytest

from apps.exchange.errors import InsufficientBalanceError
from apps.exchange.for_account import gateway_for_account
from apps.trading import execution
from apps.trading.models import Fill, Order, Position
from apps.trading.services import create_order
from apps.trading.states import OrderStatus
from tests.trading.support import make_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _order(config, cid, **fields):
    fields.setdefault("intent", "entry")
    fields.setdefault("order_type", "MARKET")
    fields.setdefault("side", "BUY")
    order, _ = create_order(
        account=config.account, strategy_config=config, client_order_id=cid, **fields
    )
    return order


def test_market_entry_is_sent_and_its_fills_open_the_position(paper_account):
    config = make_config(paper_account())
    order = _order(config, "exec-market-1", symbol="BTCUSDT", quantity="0.01")

    result = execution.submit(order)

    order = result.order
    assert result.refused is None
    assert order.status == OrderStatus.FILLED
    assert order.exchange_order_id is not None
    fills = list(Fill.objects.filter(order=order))
    assert fills
    assert sum(f.quantity for f in fills) == Decimal("0.01")
    position = Position.objects.get(strategy_config=config, status="open")
    assert position.quantity + sum(
        f.commission for f in fills if f.commission_asset == "BTC"
    ) == Decimal("0.01")


def test_submitting_twice_sends_once(paper_account):
    config = make_config(paper_account())
    order = _order(config, "exec-twice-1", symbol="BTCUSDT", quantity="0.01")
    execution.submit(order)
    # A retried task holding a stale copy of the pending row.
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.UNKNOWN)
    again = execution.submit(order)
    assert again.order.status == OrderStatus.FILLED
    assert Fill.objects.filter(order=order).count() >= 1
    trades = execution.sync_fills(again.order)
    assert trades == 0  # every trade was already booked


def test_refused_order_is_rejected_with_the_exchanges_reason(paper_account):
    config = make_config(paper_account({"USDT": "10"}))
    order = _order(config, "exec-poor-1", symbol="BTCUSDT", quantity="1")
    result = execution.submit(order)
    assert isinstance(result.refused, InsufficientBalanceError)
    assert result.order.status == OrderStatus.REJECTED
    assert "-2010" in result.order.status_reason


def test_cancel_a_resting_limit_order(paper_account):
    config = make_config(paper_account())
    gateway = gateway_for_account(config.account)
    below = (Decimal(gateway.avg_price("BTCUSDT")["price"]) * Decimal("0.9")).quantize(
        Decimal("0.01")
    )
    order = _order(
        config, "exec-limit-1", symbol="BTCUSDT", quantity="0.01", order_type="LIMIT",
        price=below, time_in_force="GTC",
    )  # fmt: skip
    placed = execution.submit(order).order
    assert placed.status == OrderStatus.NEW, placed.status_reason
    canceled = execution.cancel(placed, reason="test")
    assert canceled.status == OrderStatus.CANCELED
    # Cancelling again asks the exchange and changes nothing.
    assert execution.cancel(canceled).status == OrderStatus.CANCELED


def test_a_report_on_a_stale_copy_never_steps_the_order_back(paper_market):
    from tests.trading.support import active_account

    config = make_config(active_account())
    order = _order(config, "exec-stale-1", symbol="BTCUSDT", quantity="0.01")
    stale = Order.objects.get(pk=order.pk)  # still `pending` in memory
    # Meanwhile the user-data stream booked it as filled (regression: IllegalTransition).
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.FILLED)
    refreshed = execution.apply_report(stale, {"orderId": 777, "orderListId": -1})
    assert refreshed.status == OrderStatus.FILLED
    assert refreshed.exchange_order_id == 777


def test_log_lines_of_an_order_name_it_and_its_account(paper_account):
    import io
    import json
    import logging

    from apps.core.logging import SpotdeskFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SpotdeskFormatter(fmt="json"))
    logger = logging.getLogger("apps.trading.execution")
    logger.addHandler(handler)
    try:
        config = make_config(paper_account())
        order = _order(config, "exec-logged-1", symbol="BTCUSDT", quantity="0.01")
        execution.submit(order)
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    sent = next(line for line in lines if line["event"] == "order sent")
    assert sent["account_id"] == config.account_id
    assert sent["order_id"] == order.pk
    assert sent["client_order_id"] == "exec-logged-1"
