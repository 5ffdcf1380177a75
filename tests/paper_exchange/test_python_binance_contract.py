"""Contract: the unmodified python-binance 1.0.37 sync client against the paper exchange."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from binance.exceptions import BinanceAPIException

from apps.paper_exchange.marketdata.bars import MINUTE

SYMBOL = "BTCUSDT"


def last_price(client, symbol=SYMBOL) -> Decimal:
    return Decimal(client.get_symbol_ticker(symbol=symbol)["price"])


def on_tick(value: Decimal, tick=Decimal("0.01")) -> str:
    return str((value / tick).quantize(Decimal(1)) * tick)


def api_error(call) -> BinanceAPIException:
    with pytest.raises(BinanceAPIException) as caught:
        call()
    return caught.value


# -- general and market data ---------------------------------------------------------


def test_ping_time_and_exchange_info(client):
    assert client.ping() == {}
    assert client.get_server_time()["serverTime"] > 1_700_000_000_000
    info = client.get_exchange_info()
    names = {item["symbol"] for item in info["symbols"]}
    assert {"BTCUSDT", "ETHUSDT", "BNBUSDT", "XRPETH", "ETHBTC"} <= names
    kinds = {(item["rateLimitType"], item["interval"]) for item in info["rateLimits"]}
    assert kinds == {
        ("REQUEST_WEIGHT", "MINUTE"),
        ("ORDERS", "SECOND"),
        ("ORDERS", "DAY"),
        ("RAW_REQUESTS", "MINUTE"),
    }
    btc = client.get_symbol_info(SYMBOL)
    filters = {item["filterType"]: item for item in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert btc["permissionSets"] == [["SPOT"]]
    assert "STOP_LOSS_LIMIT" in btc["orderTypes"]


def test_exchange_info_for_some_symbols(client):
    info = client._get("exchangeInfo", data={"symbols": '["ETHUSDT","XRPETH"]'})
    assert [item["symbol"] for item in info["symbols"]] == ["ETHUSDT", "XRPETH"]
    error = api_error(lambda: client._get("exchangeInfo", data={"symbol": "NOPE"}))
    assert error.code == -1121


def test_klines_rows_have_twelve_string_fields(client):
    rows = client.get_klines(symbol=SYMBOL, interval="1m", limit=10)
    assert len(rows) == 10
    for row in rows:
        assert len(row) == 12
        assert isinstance(row[0], int)
        assert row[0] % MINUTE == 0
        assert row[6] == row[0] + MINUTE - 1
        assert all(isinstance(row[index], str) for index in (1, 2, 3, 4, 5, 7, 9, 10))
        assert Decimal(row[3]) <= min(Decimal(row[1]), Decimal(row[4]))
        assert Decimal(row[2]) >= max(Decimal(row[1]), Decimal(row[4]))
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)


@pytest.mark.parametrize("interval", ["1s", "3m", "1h", "1d", "1w", "1M"])
def test_klines_of_every_interval_family(client, interval):
    rows = client.get_ui_klines(symbol=SYMBOL, interval=interval, limit=3)
    assert 1 <= len(rows) <= 3


def test_klines_start_time_and_limit(client):
    latest = client.get_klines(symbol=SYMBOL, interval="1m", limit=1)[0][0]
    start = latest - 30 * MINUTE
    rows = client.get_klines(symbol=SYMBOL, interval="1m", startTime=start, limit=5)
    assert [row[0] for row in rows] == [start + i * MINUTE for i in range(5)]
    assert len(client.get_klines(symbol=SYMBOL, interval="1m", limit=5000)) == 1000


def test_bad_interval_is_1120(client):
    assert api_error(lambda: client.get_klines(symbol=SYMBOL, interval="7m")).code == -1120


def test_depth_book_ticker_and_averages(client):
    book = client.get_order_book(symbol=SYMBOL, limit=10)
    assert len(book["bids"]) == len(book["asks"]) == 10
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
    ticker = client.get_orderbook_ticker(symbol=SYMBOL)
    assert ticker["bidPrice"] == book["bids"][0][0]
    average = client.get_avg_price(symbol=SYMBOL)
    assert average["mins"] == 5
    assert Decimal(average["price"]) > 0
    day = client.get_ticker(symbol=SYMBOL)
    assert Decimal(day["lowPrice"]) <= Decimal(day["lastPrice"]) <= Decimal(day["highPrice"])
    trades = client.get_recent_trades(symbol=SYMBOL, limit=5)
    assert len(trades) == 5
    assert client.get_aggregate_trades(symbol=SYMBOL, limit=3)[-1]["a"] == trades[-1]["id"]


def test_unknown_symbol_is_1121(client):
    assert api_error(lambda: client.get_order_book(symbol="FOOBAR")).code == -1121


# -- account and orders ---------------------------------------------------------------


def test_account_shows_provisioned_balances(client):
    account = client.get_account()
    assert account["canTrade"] is True
    assert client.get_asset_balance(asset="USDT") == {
        "asset": "USDT",
        "free": "100000.00000000",
        "locked": "0.00000000",
    }


def test_market_buy_moves_balances_by_its_fills(client, balances):
    before = balances()
    order = client.order_market_buy(symbol=SYMBOL, quantity="0.01")
    assert order["status"] == "FILLED"
    assert order["executedQty"] == "0.01000000"
    fills = order["fills"]
    assert fills
    assert all(fill["commissionAsset"] == "BTC" for fill in fills)
    spent = Decimal(order["cummulativeQuoteQty"])
    assert spent == sum(Decimal(f["price"]) * Decimal(f["qty"]) for f in fills)
    commission = sum(Decimal(fill["commission"]) for fill in fills)
    after = balances()
    assert after["USDT"][0] == before["USDT"][0] - spent
    assert after["BTC"][0] == before["BTC"][0] + Decimal("0.01") - commission


def test_market_order_by_quote_quantity(client):
    order = client.order_market_buy(symbol=SYMBOL, quoteOrderQty="1000")
    assert order["status"] == "FILLED"
    assert Decimal(order["cummulativeQuoteQty"]) <= Decimal(1000)
    assert Decimal(order["cummulativeQuoteQty"]) > Decimal(990)
    assert order["origQuoteOrderQty"] == "1000.00000000"


def test_market_sell_takes_commission_in_quote(client):
    order = client.order_market_sell(symbol=SYMBOL, quantity="0.02")
    assert order["status"] == "FILLED"
    assert {fill["commissionAsset"] for fill in order["fills"]} == {"USDT"}


def test_large_market_order_walks_the_book(client, admin, account):
    admin.set_balances(account["apiKey"], {"BTC": "100"})
    order = client.order_market_sell(symbol=SYMBOL, quantity="50")
    prices = [Decimal(fill["price"]) for fill in order["fills"]]
    assert len(prices) > 1
    assert prices == sorted(prices, reverse=True)


def test_resting_limit_order_locks_quote_and_cancel_releases(client, balances):
    price = on_tick(last_price(client) * Decimal("0.9"))
    order = client.order_limit_buy(symbol=SYMBOL, quantity="0.1", price=price)
    assert order["status"] == "NEW"
    assert order["fills"] == []
    locked = Decimal(price) * Decimal("0.1")
    assert balances()["USDT"] == (Decimal(100000) - locked, locked)
    assert [o["orderId"] for o in client.get_open_orders(symbol=SYMBOL)] == [order["orderId"]]
    queried = client.get_order(symbol=SYMBOL, orderId=order["orderId"])
    assert queried["status"] == "NEW"
    assert queried["isWorking"] is True
    cancelled = client.cancel_order(symbol=SYMBOL, orderId=order["orderId"])
    assert cancelled["status"] == "CANCELED"
    assert cancelled["origClientOrderId"] == order["clientOrderId"]
    assert balances()["USDT"] == (Decimal(100000), Decimal(0))
    assert client.get_open_orders(symbol=SYMBOL) == []


def test_marketable_limit_order_fills_as_taker(client):
    price = on_tick(last_price(client) * Decimal("1.01"))
    order = client.order_limit_buy(symbol=SYMBOL, quantity="0.01", price=price)
    assert order["status"] == "FILLED"
    assert all(Decimal(fill["price"]) <= Decimal(price) for fill in order["fills"])
    trades = client.get_my_trades(symbol=SYMBOL, orderId=order["orderId"])
    assert trades
    assert trades[0]["isMaker"] is False
    assert trades[0]["isBuyer"] is True


def test_fok_that_cannot_fill_expires_without_fills(client, admin, account):
    admin.set_balances(account["apiKey"], {"USDT": "100000000"})
    price = on_tick(last_price(client) * Decimal("1.0002"))
    order = client.order_limit_buy(
        symbol=SYMBOL, quantity="90", price=price, timeInForce="FOK", newOrderRespType="FULL"
    )
    assert order["status"] == "EXPIRED"
    assert order["executedQty"] == "0.00000000"


def test_ioc_fills_what_it_can_then_expires(client, admin, account):
    admin.set_balances(account["apiKey"], {"USDT": "100000000"})
    price = on_tick(last_price(client) * Decimal("1.0002"))
    order = client.order_limit_buy(symbol=SYMBOL, quantity="90", price=price, timeInForce="IOC")
    assert order["status"] == "EXPIRED"
    assert Decimal(0) < Decimal(order["executedQty"]) < Decimal(90)


def test_response_types(client):
    price = on_tick(last_price(client) * Decimal("0.9"))
    ack = client.order_limit_buy(
        symbol=SYMBOL, quantity="0.001", price=price, newOrderRespType="ACK"
    )
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    result = client.order_limit_buy(
        symbol=SYMBOL, quantity="0.001", price=price, newOrderRespType="RESULT"
    )
    assert "fills" not in result
    assert result["status"] == "NEW"
    stop = client.create_order(
        symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.001", stopPrice=price
    )
    assert "status" not in stop  # stop orders answer ACK by default


def test_limit_maker_that_would_take_is_rejected(client):
    price = on_tick(last_price(client) * Decimal("1.01"))
    error = api_error(
        lambda: client.create_order(
            symbol=SYMBOL, side="BUY", type="LIMIT_MAKER", quantity="0.001", price=price
        )
    )
    assert (error.code, error.message) == (-2010, "Order would immediately match and take.")


def test_stop_that_would_trigger_immediately_is_rejected(client):
    above = on_tick(last_price(client) * Decimal("1.05"))
    error = api_error(
        lambda: client.create_order(
            symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.001", stopPrice=above
        )
    )
    assert (error.code, error.message) == (-2010, "Order would trigger immediately.")


def test_insufficient_balance(client):
    error = api_error(lambda: client.order_market_buy(symbol=SYMBOL, quantity="50"))
    assert error.code == -2010
    assert error.message == "Account has insufficient balance for requested action."


def test_duplicate_client_id_among_open_orders_then_reuse_after_close(client):
    price = on_tick(last_price(client) * Decimal("0.9"))
    first = client.order_limit_buy(
        symbol=SYMBOL, quantity="0.001", price=price, newClientOrderId="my-order.1"
    )
    error = api_error(
        lambda: client.order_limit_buy(
            symbol=SYMBOL, quantity="0.001", price=price, newClientOrderId="my-order.1"
        )
    )
    assert (error.code, error.message) == (-2010, "Duplicate order sent.")
    client.cancel_order(symbol=SYMBOL, origClientOrderId="my-order.1")
    again = client.order_limit_buy(
        symbol=SYMBOL, quantity="0.001", price=price, newClientOrderId="my-order.1"
    )
    assert again["orderId"] != first["orderId"]
    assert client.get_order(symbol=SYMBOL, origClientOrderId="my-order.1")["status"] == "NEW"


def test_query_and_cancel_errors(client):
    assert api_error(lambda: client.get_order(symbol=SYMBOL, orderId=987654)).code == -2013
    error = api_error(lambda: client.cancel_order(symbol=SYMBOL, orderId=987654))
    assert (error.code, error.message) == (-2011, "Unknown order sent.")
    price = on_tick(last_price(client) * Decimal("0.9"))
    order = client.order_limit_buy(symbol=SYMBOL, quantity="0.001", price=price)
    error = api_error(
        lambda: client.get_order(
            symbol=SYMBOL, orderId=order["orderId"], origClientOrderId="someone-else"
        )
    )
    assert error.code == -2039


def test_cancel_restrictions(client):
    price = on_tick(last_price(client) * Decimal("0.9"))
    order = client.order_limit_buy(symbol=SYMBOL, quantity="0.001", price=price)
    error = api_error(
        lambda: client.cancel_order(
            symbol=SYMBOL, orderId=order["orderId"], cancelRestrictions="ONLY_PARTIALLY_FILLED"
        )
    )
    assert (error.code, error.message) == (
        -2011,
        "Order was not canceled due to cancel restrictions.",
    )
    bad = api_error(
        lambda: client.cancel_order(symbol=SYMBOL, orderId=order["orderId"], cancelRestrictions="X")
    )
    assert bad.code == -1145


def test_cancel_all_open_orders(client):
    price = on_tick(last_price(client) * Decimal("0.9"))
    for _ in range(3):
        client.order_limit_buy(symbol=SYMBOL, quantity="0.001", price=price)
    cancelled = client.cancel_all_open_orders(symbol=SYMBOL)
    assert [item["status"] for item in cancelled] == ["CANCELED"] * 3
    assert client.get_open_orders(symbol=SYMBOL) == []
    assert len(client.get_all_orders(symbol=SYMBOL)) == 3


def test_order_test_endpoint_validates_without_placing(client):
    assert client.create_test_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.01") == {}
    rates = client.create_test_order(
        symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.01", computeCommissionRates="true"
    )
    assert rates["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}
    # The balance is the matching engine's business: a test order does not check it...
    assert client.create_test_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="50") == {}
    assert client.get_all_orders(symbol=SYMBOL) == []
    # ...but parameters and filters are checked.
    error = api_error(
        lambda: client.create_test_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="500")
    )
    assert error.message == "Filter failure: MARKET_LOT_SIZE"


def test_unfilled_order_count(client):
    price = on_tick(last_price(client) * Decimal("0.9"))
    client.order_limit_buy(symbol=SYMBOL, quantity="0.001", price=price)
    client.order_market_buy(symbol=SYMBOL, quantity="0.001")
    counts = client.get_current_order_count()
    assert [(c["interval"], c["intervalNum"], c["count"]) for c in counts] == [
        ("SECOND", 10, 1),
        ("DAY", 1, 1),
    ]
    assert client.response.headers["X-MBX-USED-WEIGHT-1M"].isdigit()


def test_order_count_headers_on_order_responses(client):
    client.order_market_buy(symbol=SYMBOL, quantity="0.001")
    assert client.response.headers["X-MBX-ORDER-COUNT-10S"] == "0"
    assert client.response.headers["X-MBX-ORDER-COUNT-1D"] == "0"


def test_api_restrictions(client):
    restrictions = client.get_account_api_permissions()
    assert restrictions["enableSpotAndMarginTrading"] is True
    assert restrictions["enableWithdrawals"] is False
    assert restrictions["ipRestrict"] is False
    assert restrictions["tradingAuthorityExpirationTime"] > restrictions["createTime"]


def test_historical_klines_helper_pages_through_the_replay(client):
    # Without a limit the helper asks for 1000 rows a page until the data runs out.
    rows = client.get_historical_klines("ETHBTC", "5m", start_str=1)
    assert len(rows) > 5000  # twenty days of 5-minute bars
    opens = [row[0] for row in rows]
    assert all(later - earlier == 5 * MINUTE for earlier, later in itertools.pairwise(opens))


def test_historical_trades_from_an_id(client):
    recent = client.get_recent_trades(symbol="XRPETH", limit=10)
    older = client.get_historical_trades(symbol="XRPETH", fromId=recent[0]["id"], limit=5)
    assert [trade["id"] for trade in older] == [trade["id"] for trade in recent[:5]]


def test_commission_rates(client):
    rates = client._get("account/commission", True, data={"symbol": SYMBOL})
    assert rates["standardCommission"]["taker"] == "0.00100000"
    assert rates["discount"]["enabledForAccount"] is False


def test_rolling_window_ticker(client):
    hour = client._get("ticker", data={"symbol": SYMBOL, "windowSize": "1h"})
    assert hour["openTime"] % MINUTE == 0
    assert hour["closeTime"] - hour["openTime"] < 61 * MINUTE
    assert Decimal(hour["lowPrice"]) <= Decimal(hour["lastPrice"]) <= Decimal(hour["highPrice"])
    both = client._get("ticker", data={"symbols": '["BTCUSDT","ETHUSDT"]', "type": "MINI"})
    assert [row["symbol"] for row in both] == ["BTCUSDT", "ETHUSDT"]
    assert "priceChange" not in both[0]
    with pytest.raises(BinanceAPIException) as caught:
        client._get("ticker", data={"symbol": SYMBOL, "windowSize": "8d"})
    assert caught.value.code == -1130
