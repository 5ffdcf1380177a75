"""WebSocket API: framing, user data subscriptions, and executionReports for orders placed
over REST, with cumulative quantities and commissions that agree with REST."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from binance import AsyncClient, BinanceSocketManager
from binance.exceptions import BinanceAPIException

from tests.paper_exchange.wsclient import (
    connect,
    quiet,
    receive_until,
    signed_params,
    ws_url,
)

ZERO = Decimal(0)


@pytest.fixture
def api_url(paper_server) -> str:
    return ws_url(paper_server.url) + "/ws-api/v3"


async def close_client(client: AsyncClient, admin) -> None:
    """Close a python-binance client; dropping the WebSocket API connection wakes its
    read loop, which otherwise waits 10 s for a message before it notices."""
    closing = asyncio.create_task(client.close_connection())
    while not closing.done():
        await asyncio.to_thread(admin.streams, "drop", target="wsapi")
        await asyncio.wait({closing}, timeout=0.3)
    await closing


@pytest.fixture
async def async_client(paper_server, account, api_url, admin):
    client = AsyncClient(account["apiKey"], account["secretKey"])
    client.API_URL = f"{paper_server.url}/api"
    client.ws_api._url = api_url
    yield client
    await close_client(client, admin)


async def call(ws, method: str, params: dict | None = None, request_id=1) -> dict:
    await ws.send_json({"id": request_id, "method": method, "params": params or {}})
    messages = await receive_until(ws, lambda message: message.get("id") == request_id)
    return messages[-1]


async def test_ping_time_and_rate_limits(api_url, paper_server):
    async with connect(api_url) as ws:
        pong = await call(ws, "ping", request_id="a1")
        assert pong["status"] == 200
        assert pong["result"] == {}
        limit = pong["rateLimits"][0]
        assert (limit["rateLimitType"], limit["interval"], limit["intervalNum"]) == (
            "REQUEST_WEIGHT",
            "MINUTE",
            1,
        )
        assert limit["count"] >= 3  # connecting weighs 2, ping 1
        clock = await call(ws, "v3/time", {"returnRateLimits": False}, request_id=None)
        assert set(clock) == {"id", "status", "result"}
        assert clock["result"]["serverTime"] > 0
        unknown = await call(ws, "nosuch.method", request_id=3)
        assert unknown["status"] == 400
        assert unknown["error"]["code"] == -1020
    async with connect(api_url + "?returnRateLimits=false") as ws:
        assert "rateLimits" not in await call(ws, "ping")


async def _subscribe(ws, key: dict, request_id=1) -> int:
    answer = await call(ws, "userDataStream.subscribe.signature", signed_params(key), request_id)
    assert answer["status"] == 200, answer
    return answer["result"]["subscriptionId"]


def _events(messages: list, subscription_id: int) -> list[dict]:
    return [m["event"] for m in messages if m.get("subscriptionId") == subscription_id]


async def test_rest_orders_produce_execution_reports(api_url, client, account, admin, balances):
    async with connect(api_url) as ws:
        subscription = await _subscribe(ws, account)
        # A market buy walks the book: one NEW, then one TRADE per level it took.
        order = await asyncio.to_thread(
            client.create_order, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.9"
        )
        messages = await receive_until(
            ws, lambda m: m.get("event", {}).get("e") == "outboundAccountPosition"
        )
    events = _events(messages, subscription)
    reports = [event for event in events if event["e"] == "executionReport"]
    assert reports[0]["x"] == "NEW"
    trades = reports[1:]
    assert len(trades) == len(order["fills"]) >= 2
    assert {event["x"] for event in trades} == {"TRADE"}
    assert [event["X"] for event in trades] == ["PARTIALLY_FILLED"] * (len(trades) - 1) + ["FILLED"]
    cumulative = quote = ZERO
    for event, fill in zip(trades, order["fills"], strict=True):
        cumulative += Decimal(event["l"])
        quote += Decimal(event["Y"])
        assert Decimal(event["z"]) == cumulative
        assert Decimal(event["Z"]) == quote
        assert (event["L"], event["l"], event["n"], event["N"], event["t"]) == (
            fill["price"],
            fill["qty"],
            fill["commission"],
            fill["commissionAsset"],
            fill["tradeId"],
        )
        assert event["i"] == order["orderId"]
        assert event["c"] == order["clientOrderId"]
        assert event["m"] is False
    assert cumulative == Decimal(order["executedQty"])
    assert quote == Decimal(order["cummulativeQuoteQty"])
    # Execution ids grow; the account position comes last and matches REST.
    assert [event["I"] for event in reports] == sorted({event["I"] for event in reports})
    position = events[-1]
    assert position["e"] == "outboundAccountPosition"
    now = balances()
    for item in position["B"]:
        assert (Decimal(item["f"]), Decimal(item["l"])) == now[item["a"]]
    assert {item["a"] for item in position["B"]} == {"BTC", "USDT"}


async def test_resting_orders_fill_from_the_tape_as_maker(api_url, client, account, admin):
    price = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
    # One order each side of the price: whichever way the market goes, one fills.
    limits = {
        "BUY": (price * Decimal("0.9995")).quantize(Decimal("0.01")),
        "SELL": (price * Decimal("1.0005")).quantize(Decimal("0.01")),
    }
    async with connect(api_url) as ws:
        subscription = await _subscribe(ws, account)
        orders = {}
        for side, limit in limits.items():
            orders[side] = await asyncio.to_thread(
                client.create_order,
                symbol="BTCUSDT",
                side=side,
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.5",
                price=str(limit),
            )
            new = _events(
                await receive_until(ws, lambda m: m["event"]["e"] != "executionReport"),
                subscription,
            )
            assert new[0]["x"] == "NEW"
            assert new[0]["w"] is True
            assert new[0]["W"] == new[0]["O"]
            assert new[1]["e"] == "outboundAccountPosition"
        position = {item["a"]: item for item in new[1]["B"]}
        assert position["BTC"]["l"] == "0.50000000"
        assert position["USDT"]["l"] == f"{limits['BUY'] * Decimal('0.5'):.8f}"
        trades = []
        for _ in range(600):
            if trades and trades[-1]["X"] == "FILLED":
                break
            await asyncio.to_thread(admin.advance, 60_000)
            for event in _events(await quiet(ws, 0.1), subscription):
                if event["e"] == "executionReport":
                    trades.append(event)
        assert trades, "the market never reached either limit price"
        for placed in orders.values():
            if client.get_order(symbol="BTCUSDT", orderId=placed["orderId"])["status"] != "FILLED":
                client.cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
    side = trades[0]["S"]
    order = orders[side]
    trades = [event for event in trades if event["i"] == order["orderId"]]
    assert trades[0]["x"] == "TRADE"
    my_trades = {
        t["id"]: t for t in client.get_my_trades(symbol="BTCUSDT", orderId=order["orderId"])
    }
    cumulative = ZERO
    for event in trades:
        if event["x"] != "TRADE":
            continue
        cumulative += Decimal(event["l"])
        assert Decimal(event["z"]) == cumulative
        assert event["m"] is True
        assert event["L"] == f"{limits[side]:.8f}"
        trade = my_trades[event["t"]]
        assert (event["n"], event["N"]) == (trade["commission"], trade["commissionAsset"])
    assert cumulative == Decimal(
        client.get_order(symbol="BTCUSDT", orderId=order["orderId"])["executedQty"]
    )


async def test_cancel_reports_both_client_ids(api_url, client, account):
    price = Decimal(client.get_symbol_ticker(symbol="ETHUSDT")["price"])
    async with connect(api_url) as ws:
        subscription = await _subscribe(ws, account)
        order = await asyncio.to_thread(
            client.order_limit_buy,
            symbol="ETHUSDT",
            quantity="0.1",
            price=str((price * Decimal("0.8")).quantize(Decimal("0.01"))),
            newClientOrderId="resting-1",
        )
        await asyncio.to_thread(
            client.cancel_order,
            symbol="ETHUSDT",
            orderId=order["orderId"],
            newClientOrderId="cancel-1",
        )
        events = _events(
            await receive_until(ws, lambda m: m["event"].get("x") == "CANCELED"), subscription
        )
    cancel = events[-1]
    assert (cancel["c"], cancel["C"], cancel["X"], cancel["i"]) == (
        "cancel-1",
        "resting-1",
        "CANCELED",
        order["orderId"],
    )


async def test_python_binance_user_socket_and_ws_orders(async_client, paper_server, admin):
    manager = BinanceSocketManager(async_client)
    manager.STREAM_URL = ws_url(paper_server.url) + "/"
    async with manager.user_socket() as socket:
        placed = await async_client.ws_create_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
        )
        assert placed["status"] == "FILLED"
        kinds = []
        while "outboundAccountPosition" not in kinds:
            event = await asyncio.wait_for(socket.recv(), 5)
            kinds.append(event["e"])
            if event["e"] == "executionReport":
                assert event["i"] == placed["orderId"]
        assert kinds[:2] == ["executionReport", "executionReport"]
        status = await async_client.ws_get_order(symbol="BTCUSDT", orderId=placed["orderId"])
        assert status["status"] == "FILLED"
        with pytest.raises(BinanceAPIException) as missing:
            await async_client.ws_cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
        assert missing.value.code == -2011


async def test_one_connection_many_accounts(api_url, admin):
    keys = [admin.create_key({"USDT": "1000"}) for _ in range(3)]
    async with connect(api_url) as ws:
        ids = [await _subscribe(ws, key, request_id=n) for n, key in enumerate(keys)]
        assert ids == [0, 1, 2]
        again = await call(ws, "userDataStream.subscribe.signature", signed_params(keys[0]), 9)
        assert again["status"] == 400
        listed = await call(ws, "session.subscriptions", request_id=10)
        assert listed["result"] == [
            {"subscriptionId": 0},
            {"subscriptionId": 1},
            {"subscriptionId": 2},
        ]
        # A deposit shows as balanceUpdate, then the new position, on its subscription only.
        await asyncio.to_thread(admin.set_balances, keys[1]["apiKey"], {"USDT": "1500"})
        messages = await receive_until(
            ws, lambda m: m.get("event", {}).get("e") == "outboundAccountPosition"
        )
        assert [m["subscriptionId"] for m in messages] == [1, 1]
        assert messages[0]["event"]["e"] == "balanceUpdate"
        assert messages[0]["event"]["d"] == "500.00000000"
        answer = await call(ws, "userDataStream.unsubscribe", {"subscriptionId": 1}, 11)
        assert answer["result"] == {}
        listed = await call(ws, "session.subscriptions", request_id=12)
        assert listed["result"] == [{"subscriptionId": 0}, {"subscriptionId": 2}]


async def test_unsubscribe_terminates_and_bad_signatures_fail(api_url, account):
    async with connect(api_url) as ws:
        subscription = await _subscribe(ws, account)
        await ws.send_json({"id": 5, "method": "userDataStream.unsubscribe"})
        messages = await receive_until(ws, lambda m: m.get("id") == 5)
        assert messages[0] == {
            "subscriptionId": subscription,
            "event": {"e": "eventStreamTerminated", "E": messages[0]["event"]["E"]},
        }
        params = signed_params(account)
        params["signature"] = "0" * 64
        bad = await call(ws, "userDataStream.subscribe.signature", params, 6)
        assert bad["status"] == 400
        assert bad["error"]["code"] == -1022
        stale = signed_params(account, timestamp=1)
        late = await call(ws, "userDataStream.subscribe.signature", stale, 7)
        assert late["error"]["code"] == -1021


async def test_ed25519_key_subscribes(api_url, admin, paper_server):
    key = admin.create_key({"USDT": "1000"}, ed25519=True)
    client = AsyncClient(key["apiKey"], private_key=key["privateKey"])
    client.API_URL = f"{paper_server.url}/api"
    client.ws_api._url = api_url
    try:
        manager = BinanceSocketManager(client)
        async with manager.user_socket() as socket:
            await asyncio.to_thread(admin.set_balances, key["apiKey"], {"USDT": "1001"})
            event = await asyncio.wait_for(socket.recv(), 5)
            assert event["e"] == "balanceUpdate"
    finally:
        await close_client(client, admin)


async def test_oco_sends_list_status(api_url, client, account):
    price = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
    async with connect(api_url) as ws:
        subscription = await _subscribe(ws, account)
        placed = await asyncio.to_thread(
            client.create_oco_order,
            symbol="BTCUSDT",
            side="SELL",
            quantity="0.01",
            aboveType="LIMIT_MAKER",
            abovePrice=str((price * Decimal("1.05")).quantize(Decimal("0.01"))),
            belowType="STOP_LOSS",
            belowStopPrice=str((price * Decimal("0.95")).quantize(Decimal("0.01"))),
        )
        events = _events(
            await receive_until(ws, lambda m: m["event"]["e"] == "outboundAccountPosition"),
            subscription,
        )
        assert [event["e"] for event in events] == [
            "listStatus",
            "executionReport",
            "executionReport",
            "outboundAccountPosition",
        ]
        assert events[0]["g"] == placed["orderListId"]
        assert (events[0]["l"], events[0]["L"]) == ("EXEC_STARTED", "EXECUTING")
        await asyncio.to_thread(
            client._delete,
            "orderList",
            True,
            data={"symbol": "BTCUSDT", "orderListId": placed["orderListId"]},
        )
        events = _events(
            await receive_until(ws, lambda m: m["event"]["e"] == "outboundAccountPosition"),
            subscription,
        )
    assert [event.get("x", event["e"]) for event in events] == [
        "CANCELED",
        "CANCELED",
        "listStatus",
        "outboundAccountPosition",
    ]
    assert events[2]["L"] == "ALL_DONE"


async def test_cancel_replace_rejection_is_reported(api_url, client, account):
    price = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
    low = str((price * Decimal("0.9")).quantize(Decimal("0.01")))
    async with connect(api_url) as ws:
        subscription = await _subscribe(ws, account)
        order = await asyncio.to_thread(
            client.order_limit_buy, symbol="BTCUSDT", quantity="0.001", price=low
        )
        with pytest.raises(BinanceAPIException):
            await asyncio.to_thread(
                client._post,
                "order/cancelReplace",
                True,
                data={
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "50",
                    "price": low,
                    "cancelReplaceMode": "STOP_ON_FAILURE",
                    "cancelOrderId": order["orderId"],
                },
            )
        events = _events(
            await receive_until(ws, lambda m: m["event"].get("x") == "REJECTED"), subscription
        )
    rejected = events[-1]
    assert rejected["r"] == "INSUFFICIENT_BALANCES"
    assert rejected["X"] == "REJECTED"
    assert any(event.get("x") == "CANCELED" for event in events)
    assert json.dumps(rejected)


async def test_unfilled_ioc_order_expires_with_its_reason(api_url, client, account):
    price = Decimal(client.get_symbol_ticker(symbol="BTCUSDT")["price"])
    async with connect(api_url) as ws:
        subscription = await _subscribe(ws, account)
        order = await asyncio.to_thread(
            client.create_order,
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity="0.001",
            price=str((price * Decimal("0.9")).quantize(Decimal("0.01"))),
        )
        events = _events(
            await receive_until(ws, lambda m: m["event"]["e"] == "outboundAccountPosition"),
            subscription,
        )
    assert order["status"] == "EXPIRED"
    assert [event.get("x") for event in events[:2]] == ["NEW", "EXPIRED"]
    assert events[1]["eR"] == "UNFILLED_IOC_QUANTITY_EXPIRED"
    assert events[1]["X"] == "EXPIRED"
    assert events[1]["w"] is False


async def test_order_methods_answer_as_rest_with_order_rate_limits(api_url, account):
    async with connect(api_url) as ws:
        params = signed_params(
            account, symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.01"
        )
        placed = await call(ws, "order.place", params, request_id="place-1")
        assert placed["status"] == 200
        assert placed["result"]["status"] == "FILLED"
        assert placed["result"]["fills"]
        kinds = [(item["rateLimitType"], item["interval"]) for item in placed["rateLimits"]]
        assert kinds == [("ORDERS", "SECOND"), ("ORDERS", "DAY"), ("REQUEST_WEIGHT", "MINUTE")]
        query = signed_params(account, symbol="ETHUSDT", orderId=placed["result"]["orderId"])
        status = await call(ws, "order.status", query, request_id="status-1")
        assert status["result"]["executedQty"] == placed["result"]["executedQty"]
        bad = await call(ws, "order.place", {**params, "quantity": "0.02"}, request_id="bad")
        assert bad["status"] == 400
        assert bad["error"]["code"] == -1022


async def test_time_unit_microsecond(api_url, client, account):
    async with connect(api_url + "?timeUnit=MICROSECOND") as ws:
        clock = await call(ws, "time")
        assert clock["result"]["serverTime"] > 10**15
        subscription = await _subscribe(ws, account, request_id=2)
        order = await asyncio.to_thread(
            client.create_order, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
        )
        events = _events(
            await receive_until(ws, lambda m: m["event"]["e"] == "outboundAccountPosition"),
            subscription,
        )
    assert events[0]["O"] == order["transactTime"] * 1000
    assert events[0]["E"] == events[0]["T"] == order["transactTime"] * 1000
    assert events[-1]["u"] == order["transactTime"] * 1000
    assert events[1]["t"] == order["fills"][0]["tradeId"]  # ids stay as they are
