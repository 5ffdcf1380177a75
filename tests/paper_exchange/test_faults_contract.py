"""Fault injection: each fault produced on demand, and what an unmodified client sees."""

from __future__ import annotations

import argparse
import asyncio
import time
from decimal import Decimal

import aiohttp
import pytest
import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException

from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import Admin, make_config, point_client_at
from tests.paper_exchange.wsclient import (
    connect,
    quiet,
    receive_json,
    receive_until,
    signed_params,
    ws_url,
)


@pytest.fixture(scope="module")
def server():
    running = ServerThread(make_config()).start()
    yield running
    running.stop()


@pytest.fixture
def admin(server):
    admin = Admin(server.url)
    admin.clear_faults()
    yield admin
    admin.clear_faults()


@pytest.fixture
def key(admin):
    return admin.create_key({"USDT": "100000", "BTC": "1"})


@pytest.fixture
def client(server, key):
    return point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), server.url)


def status_of(server, path: str = "ticker/price", **params) -> int:
    return requests.get(f"{server.url}/api/v3/{path}", params=params, timeout=10).status_code


def api_error(call) -> BinanceAPIException:
    with pytest.raises(BinanceAPIException) as raised:
        call()
    return raised.value


def test_5xx_by_seed_is_reproducible_and_limited_to_its_group(server, admin, client):
    rule = {"kind": "error", "group": "market", "probability": 0.5, "status": 503, "code": -1001}
    admin.faults(seed="replay-me", rules=[rule])
    first = [status_of(server) for _ in range(40)]
    admin.faults(seed="replay-me", rules=[rule])
    second = [status_of(server) for _ in range(40)]
    assert first == second
    assert set(first) == {200, 503}
    assert status_of(server, "ping") == 200  # the general group is not affected
    admin.faults(rules=[{"kind": "error", "group": "market", "status": 503, "code": -1001}])
    error = api_error(lambda: client.get_symbol_ticker(symbol="BTCUSDT"))
    assert (error.status_code, error.code) == (503, -1001)
    assert error.message == "Internal error; unable to process your request. Please try again."


def test_timeout_error_before_the_engine_places_nothing(admin, client):
    admin.faults(rules=[{"kind": "error", "group": "trading", "code": -1007, "count": 1}])
    error = api_error(
        lambda: client.create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    )
    assert (error.status_code, error.code) == (503, -1007)
    assert "execution status unknown" in error.message
    assert client.get_all_orders(symbol="BTCUSDT") == []


async def test_accepted_but_status_unknown(server, admin, client, key):
    admin.faults(rules=[{"kind": "accepted_unknown", "group": "trading", "count": 1}])
    async with connect(ws_url(server.url) + "/ws-api/v3") as ws:
        await ws.send_json(
            {"id": 1, "method": "userDataStream.subscribe.signature", "params": signed_params(key)}
        )
        await receive_json(ws)
        error = await asyncio.to_thread(
            api_error,
            lambda: client.create_order(
                symbol="BTCUSDT",
                side="BUY",
                type="MARKET",
                quantity="0.001",
                newClientOrderId="lost-1",
            ),
        )
        assert (error.status_code, error.code) == (503, -1007)
        # ... yet the order went through: the stream and a query both show it.
        events = await receive_until(ws, lambda m: m["event"].get("X") == "FILLED")
    assert events[0]["event"]["c"] == "lost-1"
    assert client.get_order(symbol="BTCUSDT", origClientOrderId="lost-1")["status"] == "FILLED"


def test_latency_and_hanging_requests(server, admin):
    admin.faults(rules=[{"kind": "latency", "group": "market", "ms": 400, "count": 1}])
    started = time.monotonic()
    assert status_of(server) == 200
    assert time.monotonic() - started >= 0.4
    admin.faults(rules=[{"kind": "hang", "group": "market", "ms": 2000, "count": 1}])
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{server.url}/api/v3/ticker/price", timeout=0.5)
    assert status_of(server) == 200  # only one request hangs


def test_burst_of_429_regardless_of_weight(server, admin, client):
    used = int(
        requests.get(f"{server.url}/api/v3/ping", timeout=10).headers["X-MBX-USED-WEIGHT-1M"]
    )
    admin.faults(rules=[{"kind": "rate_limit", "count": 3, "ms": 2000}])
    answers = [requests.get(f"{server.url}/api/v3/ping", timeout=10) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [429, 429, 429, 200]
    assert answers[0].json()["code"] == -1003
    assert answers[0].headers["Retry-After"] == "2"
    # The refused requests used no weight (a new minute may even have started).
    assert int(answers[3].headers["X-MBX-USED-WEIGHT-1M"]) <= used + 1


def test_clock_skew_breaks_unsynchronised_clients(server, admin, client):
    admin.faults(clockSkewMs=120_000)
    server_time = client.get_server_time()["serverTime"]
    assert server_time - time.time() * 1000 > 119_000
    error = api_error(client.get_account)
    assert error.code == -1021
    client.timestamp_offset = server_time - int(time.time() * 1000)
    assert "balances" in client.get_account()


async def test_maintenance_fails_everything_for_a_window(server, admin, client):
    admin.faults(maintenanceSeconds=0.6)
    assert status_of(server, "ping") == 503
    error = api_error(client.get_account)
    assert (error.status_code, error.code) == (503, -1001)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(ws_url(server.url) + "/ws/btcusdt@trade")
    assert refused.value.status == 503
    await asyncio.sleep(0.7)
    assert status_of(server, "ping") == 200


def test_faults_per_account(server, admin):
    first, second = admin.create_key({"USDT": "10"}), admin.create_key({"USDT": "10"})
    clients = [
        point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), server.url)
        for key in (first, second)
    ]
    account_id = clients[0].get_account()["uid"]
    admin.faults(rules=[{"kind": "error", "account": account_id, "status": 500, "code": -1000}])
    assert api_error(clients[0].get_account).status_code == 500
    assert clients[1].get_account()["uid"] != account_id
    assert status_of(server, "ping") == 200


def test_faults_from_the_start_configuration():
    config = make_config(
        data_dir=None,
        fault_seed="boot",
        faults={"rules": [{"kind": "error", "group": "general", "count": 1, "code": -1008}]},
    )
    running = ServerThread(config).start()
    try:
        first = requests.get(f"{running.url}/api/v3/time", timeout=10)
        assert first.status_code == 503
        assert first.json()["code"] == -1008
        assert requests.get(f"{running.url}/api/v3/time", timeout=10).status_code == 200
    finally:
        running.stop()


async def test_dropped_stream_connection(server, admin):
    async with connect(ws_url(server.url) + "/ws/btcusdt@trade") as ws:
        await asyncio.to_thread(admin.streams, "drop", symbol="BTCUSDT")
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type in (
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.ERROR,
        )


async def test_stalled_stream_stays_open_then_resumes(server, admin):
    async with connect(ws_url(server.url) + "/ws/btcusdt@kline_1s") as ws:
        answer = await asyncio.to_thread(
            admin.streams, "stall", stream="btcusdt@kline_1s", seconds=1.0
        )
        assert answer["connections"] == 1
        await asyncio.to_thread(admin.advance, 3_000)
        assert await quiet(ws, 0.5) == []
        assert not ws.closed
        resumed = await receive_json(ws, 3)
        assert resumed["e"] == "kline"


async def _depth_events(server, admin, count: int) -> list[dict]:
    async with connect(ws_url(server.url) + "/ws/btcusdt@depth@100ms") as ws:
        events = []
        for _ in range(count):
            await asyncio.to_thread(admin.advance, 1_000)
            events.extend(await quiet(ws, 0.25))
        return events


async def test_duplicated_depth_events(server, admin):
    admin.faults(streams={"duplicateDepth": 1.0})
    events = await _depth_events(server, admin, 3)
    assert len(events) >= 4
    assert events[0::2] == events[1::2]


async def test_out_of_order_depth_events(server, admin):
    admin.faults(streams={"reorderDepth": 1.0})
    events = await _depth_events(server, admin, 4)
    firsts = [event["U"] for event in events]
    assert len(firsts) >= 2
    assert firsts != sorted(firsts)


async def test_server_shutdown_events(server, admin, key):
    raw_url = ws_url(server.url) + "/ws/btcusdt@trade"
    combined_url = ws_url(server.url) + "/stream?streams=btcusdt@trade"
    async with (
        connect(raw_url) as raw,
        connect(combined_url) as combined,
        connect(ws_url(server.url) + "/ws-api/v3") as api,
    ):
        await api.send_json({"id": 1, "method": "ping"})
        await receive_json(api)
        answer = await asyncio.to_thread(admin.streams, "shutdown", seconds=0.2)
        assert answer == {"connections": 2, "sessions": 1}
        assert (await receive_json(raw))["e"] == "serverShutdown"
        wrapped = await receive_json(combined)
        assert wrapped["stream"] == "!serverShutdown"
        assert wrapped["data"]["e"] == "serverShutdown"
        assert (await receive_json(api))["event"]["e"] == "serverShutdown"
        closing = await asyncio.wait_for(raw.receive(), 3)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


def test_symbol_status_and_filters_change_mid_run(server, admin, client):
    admin.post("/admin/symbols", {"symbol": "BTCUSDT", "status": "BREAK"})
    try:
        info = client.get_symbol_info("BTCUSDT")
        assert info["status"] == "BREAK"
        error = api_error(
            lambda: client.create_order(
                symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
            )
        )
        assert (error.code, error.message) == (-2010, "Market is closed.")
    finally:
        admin.post("/admin/symbols", {"symbol": "BTCUSDT", "status": "TRADING"})
    admin.post("/admin/symbols", {"symbol": "BTCUSDT", "set": {"min_notional": "1000"}})
    try:
        notional = next(
            item
            for item in client.get_symbol_info("BTCUSDT")["filters"]
            if item["filterType"] == "NOTIONAL"
        )
        assert Decimal(notional["minNotional"]) == 1000
        error = api_error(
            lambda: client.create_order(
                symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
            )
        )
        assert (error.code, error.message) == (-1013, "Filter failure: NOTIONAL")
    finally:
        admin.post("/admin/symbols", {"symbol": "BTCUSDT", "set": {"min_notional": "5"}})
    assert client.create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")


async def test_websocket_api_faults(server, admin, key, client):
    admin.faults(
        rules=[
            {"kind": "error", "group": "wsapi", "count": 1},
            {"kind": "accepted_unknown", "group": "wsapi", "count": 1},
        ]
    )
    async with connect(ws_url(server.url) + "/ws-api/v3") as ws:
        await ws.send_json({"id": "p", "method": "ping"})
        failed = await receive_json(ws)
        assert (failed["status"], failed["error"]["code"]) == (503, -1001)
        params = signed_params(
            key,
            symbol="BTCUSDT",
            side="BUY",
            type="MARKET",
            quantity="0.001",
            newClientOrderId="ws-lost",
        )
        await ws.send_json({"id": "o", "method": "order.place", "params": params})
        unknown = await receive_json(ws)
        assert (unknown["status"], unknown["error"]["code"]) == (503, -1007)
    assert client.get_order(symbol="BTCUSDT", origClientOrderId="ws-lost")["status"] == "FILLED"


def test_admin_rejects_bad_fault_rules(server, admin):
    answer = admin.session.post(
        f"{server.url}/admin/faults", json={"rules": [{"kind": "meteor"}]}, timeout=10
    )
    assert answer.status_code == 400
    assert "kind" in answer.json()["error"]


def test_fault_file_from_the_command_line(tmp_path):
    from apps.paper_exchange.cli import add_server_arguments, config_from_options

    good = tmp_path / "faults.json"
    good.write_text('{"seed": "cli", "rules": [{"kind": "latency", "ms": 5}], "clockSkewMs": 7}')
    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    options = vars(parser.parse_args(["--faults", str(good), "--fault-seed", "cli-seed"]))
    config = config_from_options(options)
    assert config.faults["clockSkewMs"] == 7
    assert config.fault_seed == "cli-seed"
    bad = tmp_path / "bad.json"
    bad.write_text('{"rules": [{"kind": "latency", "colour": "red"}]}')
    options = vars(parser.parse_args(["--faults", str(bad)]))
    with pytest.raises(SystemExit, match="colour"):
        config_from_options(options)


def test_a_scripted_market_moves_klines_and_triggers_resting_orders(server, admin, client):
    price = Decimal(client.get_symbol_ticker(symbol="ETHUSDT")["price"])
    up, down = (
        (price * Decimal("1.05")).quantize(Decimal("0.01")),
        (price * Decimal("0.90")).quantize(Decimal("0.01")),
    )
    stop = (price * Decimal("0.95")).quantize(Decimal("0.01"))
    # The limit sits below the scripted close: the seeded tape may first print under
    # the stop anywhere down to the bar's low, and a limit above that print would
    # rightly rest instead of filling.
    limit = (down * Decimal("0.98")).quantize(Decimal("0.01"))
    client.create_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.5")
    resting = client.create_order(
        symbol="ETHUSDT", side="SELL", type="STOP_LOSS_LIMIT", quantity="0.49",
        stopPrice=str(stop), price=str(limit), timeInForce="GTC",
    )  # fmt: skip
    answer = admin.post(
        "/admin/market",
        {"symbol": "ETHUSDT", "closes": [str(up), str(down)], "volumes": ["7", "300"]},
    )
    assert answer["bars"] == 2
    now = admin.advance(3 * 60_000)
    klines = client.get_klines(
        symbol="ETHUSDT", interval="1m", startTime=answer["firstOpenTime"], limit=2
    )
    assert [Decimal(k[4]) for k in klines] == [up, down]
    assert [Decimal(k[5]) for k in klines] == [7, 300]
    assert klines[0][0] == answer["firstOpenTime"] < now
    order = client.get_order(symbol="ETHUSDT", orderId=resting["orderId"])
    assert order["status"] == "FILLED"  # the scripted fall went through the stop
    fill_price = Decimal(order["cummulativeQuoteQty"]) / Decimal(order["executedQty"])
    assert limit <= fill_price <= stop
    with pytest.raises(requests.HTTPError):
        admin.post("/admin/market", {"symbol": "ETHUSDT", "closes": ["-1"]})
