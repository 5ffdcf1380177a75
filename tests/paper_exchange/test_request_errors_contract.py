"""Contract: every request-level rule surfaces as python-binance's BinanceAPIException with
Binance's code, message and HTTP status."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException

from tests.paper_exchange.conftest import point_client_at

SYMBOL = "BTCUSDT"


def api_error(call) -> BinanceAPIException:
    with pytest.raises(BinanceAPIException) as caught:
        call()
    return caught.value


def price_near(client, factor: str) -> str:
    last = Decimal(client.get_symbol_ticker(symbol=SYMBOL)["price"])
    return str((last * Decimal(factor)).quantize(Decimal("0.01")))


# -- keys, signatures, timing -------------------------------------------------------------


def test_unknown_api_key_is_401_2015(paper_server):
    stranger = point_client_at(Client("A" * 64, "secret", ping=False), paper_server.url)
    error = api_error(stranger.get_account)
    assert (error.status_code, error.code) == (401, -2015)
    assert error.message == "Invalid API-key, IP, or permissions for action."


def test_malformed_api_key_is_2014(paper_server):
    bad = point_client_at(Client("short-key", "secret", ping=False), paper_server.url)
    error = api_error(bad.get_account)
    assert (error.code, error.message) == (-2014, "API-key format invalid.")


def test_wrong_secret_is_1022(paper_server, account):
    forged = point_client_at(Client(account["apiKey"], "x" * 64, ping=False), paper_server.url)
    error = api_error(forged.get_account)
    assert (error.status_code, error.code) == (400, -1022)
    assert error.message == "Signature for this request is not valid."


def test_missing_signature_is_1102(paper_server, account):
    response = requests.get(
        f"{paper_server.url}/api/v3/account?timestamp=1",
        headers={"X-MBX-APIKEY": account["apiKey"]},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["code"] == -1102
    assert "'signature'" in response.json()["msg"]


def test_read_only_key_cannot_trade(paper_server, admin):
    key = admin.create_key({"USDT": "1000"}, trading=False)
    reader = point_client_at(Client(key["apiKey"], key["secretKey"], ping=False), paper_server.url)
    assert reader.get_account()["canTrade"] is False
    error = api_error(lambda: reader.order_market_buy(symbol=SYMBOL, quantity="0.001"))
    assert error.code == -2015


def test_old_timestamp_is_1021(client):
    client.timestamp_offset = -15_000
    error = api_error(client.get_account)
    assert (error.code, error.message) == (
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    )
    client.REQUEST_RECVWINDOW = 20_000
    assert client.get_account()["balances"]


def test_timestamp_ahead_is_1021(client):
    client.timestamp_offset = 2_000
    error = api_error(client.get_account)
    assert error.message == "Timestamp for this request was 1000ms ahead of the server's time."


def test_recv_window_above_60000(client):
    client.REQUEST_RECVWINDOW = 60001  # python-binance sends its own recvWindow (10000)
    error = api_error(client.get_account)
    assert error.code == -1102
    assert error.message == "'recvWindow' contains unexpected value. Cannot be greater than 60000."


def test_microsecond_timestamps_are_accepted(paper_server, account):
    client = point_client_at(
        Client(account["apiKey"], account["secretKey"], ping=False, time_unit="MICROSECOND"),
        paper_server.url,
    )
    # python-binance sends milliseconds; send microseconds by hand through its signer.
    import time

    params = {"timestamp": int(time.time() * 1_000_000)}
    query = f"timestamp={params['timestamp']}"
    signature = client._hmac_signature(query)
    response = requests.get(
        f"{paper_server.url}/api/v3/account?{query}&signature={signature}",
        headers={"X-MBX-APIKEY": account["apiKey"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_query_string_wins_over_body_and_both_are_signed(paper_server, account):
    import hashlib
    import hmac
    import time

    query = f"symbol={SYMBOL}&side=BUY&type=MARKET"
    body = f"quantity=0.001&side=SELL&timestamp={int(time.time() * 1000)}"
    signature = hmac.new(
        account["secretKey"].encode(), (query + body).encode(), hashlib.sha256
    ).hexdigest()
    response = requests.post(
        f"{paper_server.url}/api/v3/order?{query}",
        data=f"{body}&signature={signature}",
        headers={
            "X-MBX-APIKEY": account["apiKey"],
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["side"] == "BUY"


def test_duplicate_parameter_is_1101(paper_server):
    response = requests.get(
        f"{paper_server.url}/api/v3/depth?symbol=BTCUSDT&symbol=ETHUSDT", timeout=10
    )
    assert response.json()["code"] == -1101


# -- parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (
            {"side": "BUY", "type": "LIMIT", "quantity": "1", "timeInForce": "GTC"},
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        (
            {"side": "BUY", "type": "MARKET"},
            -1102,
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "abc"},
            -1100,
            "Illegal characters found in parameter 'quantity'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "0.000000001"},
            -1111,
            "Parameter 'quantity' has too much precision.",
        ),
        ({"side": "UP", "type": "MARKET", "quantity": "1"}, -1117, "Invalid side."),
        ({"side": "BUY", "type": "BEST", "quantity": "1"}, -1116, "Invalid orderType."),
        (
            {"side": "BUY", "type": "LIMIT", "quantity": "1", "price": "1", "timeInForce": "GTD"},
            -1115,
            "Invalid timeInForce.",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "1", "newClientOrderId": "x" * 37},
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is "
            "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "1", "newOrderRespType": "ALL"},
            -1130,
            "Data sent for parameter 'newOrderRespType' is not valid.",
        ),
        (
            {"side": "BUY", "type": "MARKET", "quantity": "1", "timeInForce": "GTC"},
            -1114,
            "TimeInForce parameter sent when not required.",
        ),
    ],
)
def test_parameter_errors(client, params, code, message):
    error = api_error(lambda: client.create_order(symbol=SYMBOL, **params))
    assert (error.status_code, error.code, error.message) == (400, code, message)


def test_invalid_symbol_on_orders(client):
    error = api_error(lambda: client.order_market_buy(symbol="NOPEUSDT", quantity="1"))
    assert (error.code, error.message) == (-1121, "Invalid symbol.")


# -- filters -------------------------------------------------------------------------


def test_filter_failures(client):
    def limit_buy(quantity, price):
        return api_error(
            lambda: client.order_limit_buy(symbol=SYMBOL, quantity=quantity, price=price)
        )

    near = price_near(client, "0.99")
    assert limit_buy("0.001", near + "1").message == "Filter failure: PRICE_FILTER"  # 0.001 tick
    assert limit_buy("0.000011", near).message == "Filter failure: LOT_SIZE"
    assert limit_buy("0.00001", near).message == "Filter failure: NOTIONAL"
    far = price_near(client, "0.1")
    assert limit_buy("0.01", far).message == "Filter failure: PERCENT_PRICE_BY_SIDE"
    assert limit_buy("0.01", far).code == -1013
    error = api_error(lambda: client.order_market_buy(symbol=SYMBOL, quantity="200"))
    assert error.message == "Filter failure: MARKET_LOT_SIZE"
    trailing = api_error(
        lambda: client.create_order(
            symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.001", trailingDelta=5
        )
    )
    assert trailing.message == "Filter failure: TRAILING_DELTA"


def test_max_num_algo_orders(client):
    stop = price_near(client, "0.8")
    for _ in range(5):
        client.create_order(
            symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.001", stopPrice=stop
        )
    error = api_error(
        lambda: client.create_order(
            symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.001", stopPrice=stop
        )
    )
    assert error.message == "Filter failure: MAX_NUM_ALGO_ORDERS"


def test_max_num_orders(paper_server, client):
    exchange = paper_server.exchange
    spec = exchange.market.specs["ETHUSDT"]
    original = spec.max_num_orders
    paper_server.call(setattr, spec, "max_num_orders", 2)
    try:
        price = str(
            (
                Decimal(client.get_symbol_ticker(symbol="ETHUSDT")["price"]) * Decimal("0.9")
            ).quantize(Decimal("0.01"))
        )
        for _ in range(2):
            client.order_limit_buy(symbol="ETHUSDT", quantity="0.01", price=price)
        error = api_error(
            lambda: client.order_limit_buy(symbol="ETHUSDT", quantity="0.01", price=price)
        )
        assert error.message == "Filter failure: MAX_NUM_ORDERS"
    finally:
        paper_server.call(setattr, spec, "max_num_orders", original)


def test_halted_symbol_rejects_orders(paper_server, client):
    spec = paper_server.exchange.market.specs["BNBUSDT"]
    paper_server.call(setattr, spec, "status", "HALT")
    try:
        error = api_error(lambda: client.order_market_buy(symbol="BNBUSDT", quantity="1"))
        assert (error.code, error.message) == (-2010, "Market is closed.")
    finally:
        paper_server.call(setattr, spec, "status", "TRADING")


# -- paths ---------------------------------------------------------------------------


def test_unknown_path_is_json_404(paper_server):
    response = requests.get(f"{paper_server.url}/api/v3/nothing", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"code", "msg"}


def test_user_data_stream_is_gone(client):
    error = api_error(client.stream_get_listen_key)
    assert error.status_code == 410


def test_admin_endpoint_needs_the_token(paper_server):
    response = requests.post(f"{paper_server.url}/admin/keys", json={}, timeout=10)
    assert response.status_code == 401
    response = requests.post(
        f"{paper_server.url}/admin/keys",
        json={"balances": {"USDT": "-1"}},
        headers={"Authorization": "Bearer test-admin-token"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "USDT" in response.json()["error"]


def test_legacy_min_notional_on_a_2019_symbol(client):
    info = client.get_symbol_info("XRPETH")
    kinds = {item["filterType"] for item in info["filters"]}
    assert "MIN_NOTIONAL" in kinds
    assert "NOTIONAL" not in kinds
    price = Decimal(client.get_symbol_ticker(symbol="XRPETH")["price"])
    error = api_error(
        lambda: client.order_limit_buy(symbol="XRPETH", quantity="1", price=f"{price:f}")
    )
    assert error.message == "Filter failure: MIN_NOTIONAL"


def test_exchange_info_permissions_filter(client):
    assert len(client._get("exchangeInfo", data={"permissions": "SPOT"})["symbols"]) >= 14
    assert client._get("exchangeInfo", data={"permissions": '["MARGIN"]'})["symbols"] == []
