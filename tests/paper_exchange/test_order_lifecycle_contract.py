"""Contract: orders that live on — resting fills from the tape, stops, trailing stops,
cancel-replace and OCO lists — driven by the test clock, through python-binance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from binance.exceptions import BinanceAPIException

from apps.paper_exchange.marketdata.bars import MINUTE
from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import make_config

SYMBOL = "BTCUSDT"
TICK = Decimal("0.01")


@pytest.fixture(scope="module")
def paper_server():
    """A server of its own: these tests move the market, and their paths depend on it."""
    server = ServerThread(make_config(data_dir=None)).start()
    yield server
    server.stop()


def last_price(client) -> Decimal:
    return Decimal(client.get_symbol_ticker(symbol=SYMBOL)["price"])


def at(price: Decimal, factor: str) -> str:
    return str((price * Decimal(factor)).quantize(TICK))


def advance_until(admin, condition, step_ms=MINUTE, max_steps=3000):
    for _ in range(max_steps):
        admin.advance(step_ms)
        if condition():
            return
    raise AssertionError("condition not reached while the market moved")


def status(client, order_id: int) -> str:
    return client.get_order(symbol=SYMBOL, orderId=order_id)["status"]


def test_resting_limit_buy_fills_as_maker_when_the_tape_crosses(client, admin, balances):
    price = at(last_price(client), "0.9999")
    order = client.order_limit_buy(symbol=SYMBOL, quantity="0.05", price=price)
    advance_until(admin, lambda: status(client, order["orderId"]) == "FILLED")
    trades = client.get_my_trades(symbol=SYMBOL, orderId=order["orderId"])
    assert trades
    assert all(trade["isMaker"] for trade in trades)
    assert all(trade["price"] == f"{Decimal(price):.8f}" for trade in trades)
    assert sum(Decimal(t["qty"]) for t in trades) == Decimal("0.05")
    usdt_free, usdt_locked = balances()["USDT"]
    assert usdt_locked == 0
    assert usdt_free == Decimal(100000) - Decimal(price) * Decimal("0.05")


def test_large_resting_order_fills_partially_at_traded_volume(client, admin, account):
    admin.set_balances(account["apiKey"], {"USDT": "50000000"})
    price = at(last_price(client), "1")
    order = client.order_limit_buy(symbol=SYMBOL, quantity="90", price=price)
    advance_until(admin, lambda: status(client, order["orderId"]) != "NEW", step_ms=10_000)
    queried = client.get_order(symbol=SYMBOL, orderId=order["orderId"])
    assert queried["status"] == "PARTIALLY_FILLED"
    assert Decimal(0) < Decimal(queried["executedQty"]) < Decimal(90)
    client.cancel_order(symbol=SYMBOL, orderId=order["orderId"])


def test_stop_loss_sell_triggers_on_last_price(client, admin):
    stop = at(last_price(client), "0.998")
    order = client.create_order(
        symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.01", stopPrice=stop
    )
    assert status(client, order["orderId"]) == "NEW"
    assert client.get_order(symbol=SYMBOL, orderId=order["orderId"])["workingTime"] == -1
    advance_until(admin, lambda: status(client, order["orderId"]) == "FILLED")
    queried = client.get_order(symbol=SYMBOL, orderId=order["orderId"])
    assert queried["workingTime"] > 0
    assert Decimal(queried["cummulativeQuoteQty"]) > 0


def test_take_profit_limit_buy_rests_after_triggering(client, admin):
    last = last_price(client)
    order = client.create_order(
        symbol=SYMBOL,
        side="BUY",
        type="TAKE_PROFIT_LIMIT",
        quantity="0.01",
        stopPrice=at(last, "0.999"),
        price=at(last, "0.98"),
        timeInForce="GTC",
    )
    advance_until(
        admin,
        lambda: client.get_order(symbol=SYMBOL, orderId=order["orderId"])["workingTime"] != -1,
    )
    assert status(client, order["orderId"]) in ("NEW", "FILLED", "PARTIALLY_FILLED")


def test_trailing_stop_tracks_the_peak(client, admin):
    order = client.create_order(
        symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.01", trailingDelta=20
    )
    queried = client.get_order(symbol=SYMBOL, orderId=order["orderId"])
    assert queried["trailingDelta"] == 20
    assert queried["trailingTime"] > 0
    advance_until(admin, lambda: status(client, order["orderId"]) == "FILLED")


def test_cancel_replace_success(client):
    last = last_price(client)
    old = client.order_limit_buy(symbol=SYMBOL, quantity="0.01", price=at(last, "0.95"))
    result = client.cancel_replace_order(
        symbol=SYMBOL,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.02",
        price=at(last, "0.96"),
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrderId=old["orderId"],
    )
    assert (result["cancelResult"], result["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert result["cancelResponse"]["status"] == "CANCELED"
    assert result["newOrderResponse"]["origQty"] == "0.02000000"
    assert [o["orderId"] for o in client.get_open_orders(symbol=SYMBOL)] == [
        result["newOrderResponse"]["orderId"]
    ]


def test_cancel_replace_failures(client):
    last = last_price(client)
    with pytest.raises(BinanceAPIException) as caught:
        client.cancel_replace_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.01",
            price=at(last, "0.96"),
            cancelReplaceMode="STOP_ON_FAILURE",
            cancelOrderId=424242,
        )
    assert (caught.value.status_code, caught.value.code) == (400, -2022)
    assert caught.value.message == "Order cancel-replace failed."
    old = client.order_limit_buy(symbol=SYMBOL, quantity="0.01", price=at(last, "0.95"))
    with pytest.raises(BinanceAPIException) as caught:
        client.cancel_replace_order(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT_MAKER",
            quantity="0.01",
            price=at(last, "1.01"),
            cancelReplaceMode="STOP_ON_FAILURE",
            cancelOrderId=old["orderId"],
        )
    assert (caught.value.status_code, caught.value.code) == (409, -2021)
    assert status(client, old["orderId"]) == "CANCELED"


def test_oco_sell_places_both_legs_and_cancels_as_a_list(client, balances):
    last = last_price(client)
    placed = client.create_oco_order(
        symbol=SYMBOL,
        side="SELL",
        quantity="0.1",
        aboveType="LIMIT_MAKER",
        abovePrice=at(last, "1.05"),
        belowType="STOP_LOSS_LIMIT",
        belowStopPrice=at(last, "0.95"),
        belowPrice=at(last, "0.94"),
        belowTimeInForce="GTC",
    )
    assert placed["contingencyType"] == "OCO"
    assert placed["listOrderStatus"] == "EXECUTING"
    assert [report["type"] for report in placed["orderReports"]] == [
        "STOP_LOSS_LIMIT",
        "LIMIT_MAKER",
    ]
    # One reservation for both legs.
    assert balances()["BTC"] == (Decimal("0.9"), Decimal("0.1"))
    assert len(client.get_open_oco_orders()) == 1
    cancelled = client._delete(
        "orderList", True, data={"symbol": SYMBOL, "orderListId": placed["orderListId"]}
    )
    assert cancelled["listOrderStatus"] == "ALL_DONE"
    assert {report["status"] for report in cancelled["orderReports"]} == {"CANCELED"}
    assert balances()["BTC"] == (Decimal(1), Decimal(0))


def test_oco_one_leg_executes_and_the_other_expires(client, admin):
    last = last_price(client)
    placed = client.create_oco_order(
        symbol=SYMBOL,
        side="SELL",
        quantity="0.01",
        aboveType="LIMIT_MAKER",
        abovePrice=at(last, "1.002"),
        belowType="STOP_LOSS",
        belowStopPrice=at(last, "0.998"),
    )
    ids = [order["orderId"] for order in placed["orders"]]
    advance_until(admin, lambda: client.get_open_oco_orders() == [])
    statuses = sorted(status(client, order_id) for order_id in ids)
    assert statuses == ["EXPIRED", "FILLED"]
    listed = client._get("orderList", True, data={"orderListId": placed["orderListId"]})
    assert listed["listOrderStatus"] == "ALL_DONE"


def test_oco_price_relationship(client):
    last = last_price(client)
    with pytest.raises(BinanceAPIException) as caught:
        client.create_oco_order(
            symbol=SYMBOL,
            side="SELL",
            quantity="0.01",
            aboveType="LIMIT_MAKER",
            abovePrice=at(last, "0.97"),
            belowType="STOP_LOSS",
            belowStopPrice=at(last, "0.95"),
        )
    assert caught.value.code == -2010
    assert caught.value.message == ("The relationship of the prices for the orders is not correct.")


def test_legacy_oco_endpoint(client):
    last = last_price(client)
    placed = client._post(
        "order/oco",
        True,
        data={
            "symbol": SYMBOL,
            "side": "BUY",
            "quantity": "0.01",
            "price": at(last, "0.95"),
            "stopPrice": at(last, "1.05"),
            "stopLimitPrice": at(last, "1.06"),
            "stopLimitTimeInForce": "GTC",
        },
    )
    assert [report["type"] for report in placed["orderReports"]] == [
        "STOP_LOSS_LIMIT",
        "LIMIT_MAKER",
    ]
    cancelled = client.cancel_order(symbol=SYMBOL, orderId=placed["orders"][1]["orderId"])
    assert cancelled["status"] == "CANCELED"
    assert client.get_open_orders(symbol=SYMBOL) == []


def _order_of_type(order_type: str, last: Decimal) -> dict:
    """Parameters of a resting order of each type (prices chosen so it does not fill)."""
    below, above = at(last, "0.97"), at(last, "1.03")
    return {
        "LIMIT": {"side": "BUY", "price": below, "timeInForce": "GTC"},
        "LIMIT_MAKER": {"side": "SELL", "price": above},
        "STOP_LOSS": {"side": "SELL", "stopPrice": below},
        "STOP_LOSS_LIMIT": {
            "side": "BUY",
            "stopPrice": above,
            "price": at(last, "1.031"),
            "timeInForce": "GTC",
        },
        "TAKE_PROFIT": {"side": "SELL", "stopPrice": above},
        "TAKE_PROFIT_LIMIT": {
            "side": "BUY",
            "stopPrice": below,
            "price": at(last, "0.971"),
            "timeInForce": "IOC",
        },
    }[order_type]


@pytest.mark.parametrize(
    "order_type",
    ["LIMIT", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
)
def test_create_query_cancel_every_resting_type(client, order_type):
    params = _order_of_type(order_type, last_price(client))
    placed = client.create_order(
        symbol=SYMBOL, type=order_type, quantity="0.002", newOrderRespType="RESULT", **params
    )
    assert (placed["type"], placed["status"]) == (order_type, "NEW")
    queried = client.get_order(symbol=SYMBOL, origClientOrderId=placed["clientOrderId"])
    assert queried["orderId"] == placed["orderId"]
    if "stopPrice" in params:
        assert Decimal(queried["stopPrice"]) == Decimal(params["stopPrice"])
        assert queried["isWorking"] is False
    cancelled = client.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert cancelled["status"] == "CANCELED"
    assert client.get_open_orders(symbol=SYMBOL) == []
    assert {item["locked"] for item in client.get_account()["balances"]} == {"0.00000000"}
