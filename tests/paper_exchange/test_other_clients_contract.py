"""Contract: python-binance's async client, Ed25519 keys, and ccxt (spot markets only)."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
from binance.async_client import AsyncClient
from binance.client import Client
from binance.exceptions import BinanceAPIException

from tests.paper_exchange.conftest import point_client_at

SYMBOL = "BTCUSDT"


async def test_async_client_full_flow(paper_server, account):
    client = point_client_at(AsyncClient(account["apiKey"], account["secretKey"]), paper_server.url)
    try:
        assert await client.ping() == {}
        klines = await client.get_klines(symbol=SYMBOL, interval="5m", limit=3)
        assert len(klines) == 3
        assert len(klines[0]) == 12
        bought = await client.order_market_buy(symbol=SYMBOL, quantity="0.01")
        assert bought["status"] == "FILLED"
        last = Decimal((await client.get_symbol_ticker(symbol=SYMBOL))["price"])
        price = str((last * Decimal("0.9")).quantize(Decimal("0.01")))
        resting = await client.order_limit_buy(symbol=SYMBOL, quantity="0.01", price=price)
        queried = await client.get_order(symbol=SYMBOL, orderId=resting["orderId"])
        assert queried["status"] == "NEW"
        cancelled = await client.cancel_order(symbol=SYMBOL, orderId=resting["orderId"])
        assert cancelled["status"] == "CANCELED"
        with pytest.raises(BinanceAPIException) as caught:
            await client.order_market_buy(symbol=SYMBOL, quantity="90")
        assert caught.value.code == -2010
        account_info = await client.get_account()
        assert {item["asset"] for item in account_info["balances"]} >= {"BTC", "USDT"}
    finally:
        await client.close_connection()


def test_ed25519_key_signs_get_and_post(paper_server, admin):
    key = admin.create_key({"USDT": "1000"}, ed25519=True)
    assert "secretKey" not in key
    client = point_client_at(
        Client(key["apiKey"], private_key=key["privateKey"], ping=False), paper_server.url
    )
    assert client.get_asset_balance(asset="USDT")["free"] == "1000.00000000"
    order = client.order_market_buy(symbol=SYMBOL, quantity="0.001")
    assert order["status"] == "FILLED"


def test_ed25519_signature_from_another_key_is_rejected(paper_server, admin):
    key = admin.create_key({"USDT": "1000"}, ed25519=True)
    other = admin.create_key({}, ed25519=True)
    client = point_client_at(
        Client(key["apiKey"], private_key=other["privateKey"], ping=False), paper_server.url
    )
    with pytest.raises(BinanceAPIException) as caught:
        client.get_account()
    assert caught.value.code == -1022


def ccxt_client(url: str, api_key: str, secret: str) -> ccxt.binance:
    """An unmodified ccxt binance client for spot markets, URLs overridden."""
    client = ccxt.binance(
        {
            "apiKey": api_key,
            "secret": secret,
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
            },
        }
    )
    for name in ("public", "private"):
        client.urls["api"][name] = f"{url}/api/v3"
    client.urls["api"]["v1"] = f"{url}/api/v1"
    client.urls["api"]["sapi"] = f"{url}/sapi/v1"
    return client


@pytest.fixture
def exchange(paper_server, account):
    return ccxt_client(paper_server.url, account["apiKey"], account["secretKey"])


def test_ccxt_markets_candles_and_balance(exchange):
    markets = exchange.load_markets()
    market = markets["BTC/USDT"]
    assert market["spot"]
    assert market["precision"]["price"] == 0.01
    assert market["limits"]["cost"]["min"] == 5
    candles = exchange.fetch_ohlcv("BTC/USDT", "1h", limit=5)
    assert len(candles) == 5
    assert all(len(candle) == 6 for candle in candles)
    balance = exchange.fetch_balance()
    assert balance["USDT"]["free"] == 100000
    assert exchange.fetch_ticker("ETH/USDT")["last"] > 0
    book = exchange.fetch_order_book("BTC/USDT", limit=5)
    assert book["bids"][0][0] < book["asks"][0][0]


def test_ccxt_orders(exchange):
    exchange.load_markets()
    bought = exchange.create_order("BTC/USDT", "market", "buy", 0.01)
    assert bought["status"] == "closed"
    assert bought["filled"] == 0.01
    last = exchange.fetch_ticker("BTC/USDT")["last"]
    order = exchange.create_order("BTC/USDT", "limit", "buy", 0.01, round(last * 0.9, 2))
    assert order["status"] == "open"
    fetched = exchange.fetch_order(order["id"], "BTC/USDT")
    assert fetched["price"] == round(last * 0.9, 2)
    assert [item["id"] for item in exchange.fetch_open_orders("BTC/USDT")] == [order["id"]]
    cancelled = exchange.cancel_order(order["id"], "BTC/USDT")
    assert cancelled["status"] == "canceled"
    stop = exchange.create_order(
        "BTC/USDT",
        "STOP_LOSS_LIMIT",
        "sell",
        0.001,
        round(last * 0.8, 2),
        {"stopPrice": round(last * 0.81, 2)},
    )
    assert exchange.fetch_order(stop["id"], "BTC/USDT")["triggerPrice"] == round(last * 0.81, 2)
    trades = exchange.fetch_my_trades("BTC/USDT")
    assert trades
    assert trades[0]["side"] == "buy"


def test_ccxt_errors_map_to_its_exceptions(exchange, paper_server):
    exchange.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        exchange.create_order("BTC/USDT", "market", "buy", 90)
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order("123456", "BTC/USDT")
    with pytest.raises(ccxt.InvalidOrder):
        exchange.create_order("BTC/USDT", "limit", "buy", 0.00001, 1000)
    stranger = ccxt_client(paper_server.url, "B" * 64, "nope")
    with pytest.raises(ccxt.AuthenticationError):
        stranger.fetch_balance()


def test_ccxt_oco_and_cancel_replace_through_its_implicit_api(exchange):
    exchange.load_markets()
    last = exchange.fetch_ticker("BTC/USDT")["last"]
    placed = exchange.privatePostOrderListOco(
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "quantity": "0.01",
            "aboveType": "LIMIT_MAKER",
            "abovePrice": f"{last * 1.05:.2f}",
            "belowType": "STOP_LOSS",
            "belowStopPrice": f"{last * 0.95:.2f}",
        }
    )
    assert placed["listOrderStatus"] == "EXECUTING"
    assert len(exchange.fetch_open_orders("BTC/USDT")) == 2
    exchange.privateDeleteOrderList({"symbol": "BTCUSDT", "orderListId": placed["orderListId"]})
    assert exchange.fetch_open_orders("BTC/USDT") == []
    order = exchange.create_order("BTC/USDT", "limit", "buy", 0.01, round(last * 0.9, 2))
    replaced = exchange.privatePostOrderCancelReplace(
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.02",
            "price": f"{last * 0.91:.2f}",
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": order["id"],
        }
    )
    assert replaced["newOrderResult"] == "SUCCESS"
    assert [o["amount"] for o in exchange.fetch_open_orders("BTC/USDT")] == [0.02]


def test_ccxt_signature_and_nonce_errors(paper_server, account):
    forged = ccxt_client(paper_server.url, account["apiKey"], "x" * 64)
    with pytest.raises(ccxt.AuthenticationError):
        forged.fetch_balance()
    late = ccxt_client(paper_server.url, account["apiKey"], account["secretKey"])
    late.options["recvWindow"] = 1000
    late.options["timeDifference"] = 5_000  # ccxt's own clock-skew setting
    with pytest.raises(ccxt.InvalidNonce):
        late.fetch_balance()


def test_microsecond_time_unit(paper_server, account):
    client = point_client_at(
        Client(account["apiKey"], account["secretKey"], ping=False, time_unit="MICROSECOND"),
        paper_server.url,
    )
    assert client.get_server_time()["serverTime"] > 10**15
    row = client.get_klines(symbol=SYMBOL, interval="1m", limit=1)[0]
    assert row[6] - row[0] == 60_000_000 - 1
    order = client.order_market_buy(symbol=SYMBOL, quantity="0.001")
    assert order["transactTime"] > 10**15
    assert order["workingTime"] > 10**15
