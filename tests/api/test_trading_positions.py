"""Manual position actions over the API against the paper exchange on loopback: move
the stop, cancel the ladder, close now; each audited, and a viewer is refused."""

from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.exchange.for_account import gateway_for_account
from apps.trading import execution
from apps.trading.models import Order, Position
from apps.trading.services import create_order
from apps.trading.states import OrderStatus
from tests.accounts.factories import member
from tests.api.conftest import error_of, session_client
from tests.trading.support import make_config

pytestmark = [pytest.mark.django_db(transaction=True)]

D = Decimal


def _open_position(config) -> Position:
    order, _ = create_order(
        account=config.account, strategy_config=config, client_order_id="api-pos-entry",
        symbol="BTCUSDT", intent="entry", order_type="MARKET", side="BUY", quantity=D("0.01"),
    )  # fmt: skip
    assert execution.submit(order).order.status == OrderStatus.FILLED
    return Position.objects.get(strategy_config=config, status="open")


def _price(account) -> Decimal:
    answer = gateway_for_account(account).request(
        "GET", "/api/v3/ticker/price", {"symbol": "BTCUSDT"}, signed=False
    )
    return D(answer["price"])


def test_move_stop_cancel_ladder_and_close_through_the_api(paper_account):
    account = paper_account({"USDT": "100000"})
    config = make_config(account)
    position = _open_position(config)
    trader = session_client(member(account.organization, "trader"))
    viewer = session_client(member(account.organization, "viewer"))
    base = f"/api/v1/positions/{position.pk}/"
    price = _price(account)

    too_high = trader.post(
        base + "move-stop/", {"stop_price": str(price + 100)}, "application/json"
    )
    assert too_high.status_code == 400
    assert set(error_of(too_high)["fields"]) == {"stop_price"}
    refused = viewer.post(base + "move-stop/", {"stop_price": "1"}, "application/json")
    assert refused.status_code == 403

    stop = (price * D("0.9")).quantize(D("0.01"))
    moved = trader.post(base + "move-stop/", {"stop_price": str(stop)}, "application/json")
    assert moved.status_code == 200, moved.content
    assert D(moved.json()["stop_price"]) == stop
    assert Order.objects.filter(position=position, intent="stop", status="new").exists()
    assert AuditEvent.objects.filter(action="position.stop_moved").count() == 1

    canceled = trader.post(base + "cancel-ladder/")
    assert canceled.status_code == 200, canceled.content
    assert canceled.json()["ladder_canceled"] is True
    live = Order.objects.filter(position=position, status__in=["new", "partially_filled"])
    assert not live.filter(intent="take_profit").exists()

    closed = trader.post(base + "close/")
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert body["order"]["intent"] == "exit"
    assert body["order"]["status"] == OrderStatus.FILLED
    assert AuditEvent.objects.filter(action="position.closed_manually").count() == 1
    again = trader.post(base + "close/")
    assert again.status_code == 409  # the position is closed now
