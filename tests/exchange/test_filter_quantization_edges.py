"""Edges of the filter quantization (apps/exchange/filters.py): every filter read from
exchangeInfo with its defaults, each bound exactly at the limit, and the reason a
person reads when an order is refused. Written against the mutants mutmut found
alive (docs/testing.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.exchange.filters import (
    LotRule,
    NotionalRule,
    OrderIntent,
    OrderRefused,
    PercentPriceRule,
    PriceRule,
    QuantizedOrder,
    SymbolRules,
    ceil_to_step,
    favourable_price,
    floor_to_step,
    quantize_order,
)

D = Decimal


def rules(**overrides) -> SymbolRules:
    values = dict(
        symbol="ETHUSDT",
        base_asset="ETH",
        quote_asset="USDT",
        price=PriceRule(D("0.01"), D(10_000), D("0.01")),
        lot=LotRule(D("0.001"), D(100), D("0.001")),
        notional=NotionalRule(D(5), D(0)),
    )
    values.update(overrides)
    return SymbolRules(**values)


def refused(symbol_rules, intent, **kwargs) -> OrderRefused:
    with pytest.raises(OrderRefused) as info:
        quantize_order(symbol_rules, intent, **kwargs)
    return info.value


def limit(side="BUY", quantity="1", price="100", **extra) -> OrderIntent:
    return OrderIntent(side, "LIMIT", D(quantity), D(price), **extra)


# --- reading exchangeInfo ----------------------------------------------------------------


def test_an_entry_without_filters_gets_permissive_defaults():
    parsed = SymbolRules.from_exchange_info({"symbol": "XUSDT"})
    assert parsed == SymbolRules(
        symbol="XUSDT",
        base_asset="",
        quote_asset="",
        status="TRADING",
        base_precision=8,
        order_types=frozenset(),
        oco_allowed=True,
        price=PriceRule(),
        lot=LotRule(),
        market_lot=None,
        notional=None,
        percent_price=None,
    )


def test_every_filter_is_read_with_its_fields():
    entry = {
        "symbol": "ETHBTC",
        "status": "BREAK",
        "baseAsset": "ETH",
        "quoteAsset": "BTC",
        "baseAssetPrecision": 6,
        "orderTypes": ["LIMIT", "MARKET"],
        "ocoAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.1", "maxPrice": "9", "tickSize": "0.1"},
            {"filterType": "LOT_SIZE", "minQty": "0.2", "maxQty": "8", "stepSize": "0.2"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.3", "maxQty": "7", "stepSize": "0.3"},
            {
                "filterType": "NOTIONAL",
                "minNotional": "4",
                "maxNotional": "400",
                "applyMinToMarket": False,
                "applyMaxToMarket": True,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "1.1",
                "bidMultiplierDown": "0.9",
                "askMultiplierUp": "1.2",
                "askMultiplierDown": "0.8",
            },
        ],
    }
    parsed = SymbolRules.from_exchange_info(entry)
    assert (parsed.symbol, parsed.base_asset, parsed.quote_asset) == ("ETHBTC", "ETH", "BTC")
    assert (parsed.status, parsed.base_precision, parsed.oco_allowed) == ("BREAK", 6, False)
    assert parsed.order_types == frozenset({"LIMIT", "MARKET"})
    assert parsed.price == PriceRule(D("0.1"), D(9), D("0.1"))
    assert parsed.lot == LotRule(D("0.2"), D(8), D("0.2"))
    assert parsed.market_lot == LotRule(D("0.3"), D(7), D("0.3"))
    assert parsed.notional == NotionalRule(D(4), D(400), False, True)
    assert parsed.percent_price == PercentPriceRule(D("1.1"), D("0.9"), D("1.2"), D("0.8"))


def test_notional_defaults_and_the_legacy_filters():
    new = SymbolRules.from_exchange_info(
        {"symbol": "A", "filters": [{"filterType": "NOTIONAL", "minNotional": "5"}]}
    )
    assert new.notional == NotionalRule(D(5), D(0), True, False)
    legacy = SymbolRules.from_exchange_info(
        {
            "symbol": "A",
            "filters": [
                {"filterType": "MIN_NOTIONAL", "minNotional": "6", "applyToMarket": False},
                {"filterType": "PERCENT_PRICE", "multiplierUp": "5", "multiplierDown": "0.2"},
            ],
        }
    )
    assert legacy.notional == NotionalRule(D(6), D(0), False, False)
    assert legacy.percent_price == PercentPriceRule(D(5), D("0.2"), D(5), D("0.2"))
    default_market = SymbolRules.from_exchange_info(
        {"symbol": "A", "filters": [{"filterType": "MIN_NOTIONAL", "minNotional": "6"}]}
    )
    assert default_market.notional.apply_min_to_market is True
    # When both are published the current filters win over the legacy ones.
    both = SymbolRules.from_exchange_info(
        {
            "symbol": "A",
            "filters": [
                {"filterType": "MIN_NOTIONAL", "minNotional": "6"},
                {"filterType": "NOTIONAL", "minNotional": "7"},
                {"filterType": "PERCENT_PRICE", "multiplierUp": "5", "multiplierDown": "0.2"},
                {
                    "filterType": "PERCENT_PRICE_BY_SIDE",
                    "bidMultiplierUp": "2",
                    "bidMultiplierDown": "0.5",
                    "askMultiplierUp": "3",
                    "askMultiplierDown": "0.4",
                },
            ],
        }
    )
    assert both.notional.min_notional == D(7)
    assert both.percent_price == PercentPriceRule(D(2), D("0.5"), D(3), D("0.4"))


def test_missing_filter_fields_read_as_zero():
    parsed = SymbolRules.from_exchange_info(
        {"symbol": "A", "filters": [{"filterType": "LOT_SIZE", "stepSize": 0.5}]}
    )
    assert parsed.lot == LotRule(D(0), D(0), D("0.5"))


# --- rounding ----------------------------------------------------------------------------


def test_step_rounding_helpers():
    assert floor_to_step(D("1.239"), D("0.01")) == D("1.23")
    assert ceil_to_step(D("1.231"), D("0.01")) == D("1.24")
    assert floor_to_step(D("1.23"), D("0.01")) == D("1.23")
    assert ceil_to_step(D("1.23"), D("0.01")) == D("1.23")
    for step in (D(0), D(-1)):
        assert floor_to_step(D("1.239"), step) == D("1.239")
        assert ceil_to_step(D("1.231"), step) == D("1.231")
    assert favourable_price("BUY", D("1.239"), D("0.01")) == D("1.23")
    assert favourable_price("SELL", D("1.231"), D("0.01")) == D("1.24")


def test_side_and_type_are_case_insensitive():
    order = quantize_order(rules(), OrderIntent("sell", "limit", D("1.0005"), D("100.001")))
    assert order == QuantizedOrder("SELL", "LIMIT", D("1.000"), D("100.01"), None, D("100.01"))


def test_quantity_without_a_step_uses_the_base_precision():
    no_step = rules(lot=LotRule(), base_precision=3)
    assert quantize_order(no_step, limit(quantity="1.23456")).quantity == D("1.234")


def test_quantity_bounds_are_inclusive():
    assert quantize_order(rules(), limit(quantity="100", price="1")).quantity == D(100)
    assert quantize_order(rules(), limit(quantity="0.05")).quantity == D("0.050")
    above = refused(rules(), limit(quantity="100.001", price="1"))
    assert (above.field, above.rule) == ("order", "LOT_SIZE")
    assert above.reason == "100.001 ETH is above the maximum order quantity of 100 ETH."
    small = rules(lot=LotRule(D("0.01"), D(100), D("0.001")))
    assert quantize_order(small, limit(quantity="0.01", price="1000")).quantity == D("0.010")
    below = refused(small, limit(quantity="0.0099", price="1000"))
    assert below.rule == "LOT_SIZE"
    assert below.reason == (
        "0.0099 ETH is below the minimum order quantity of 0.01 ETH (step 0.001)."
    )
    zero = refused(rules(), limit(quantity="0.0009"))  # rounds down to nothing
    assert zero.rule == "LOT_SIZE"


def test_a_market_order_uses_market_lot_size_with_lot_size_fallbacks():
    market_lot = LotRule(D(0), D(2), D(0))  # 0 fields mean "use LOT_SIZE"
    r = rules(market_lot=market_lot)
    order = quantize_order(r, OrderIntent("BUY", "MARKET", D("1.23456")), average_price=D(100))
    assert order.quantity == D("1.234")  # LOT_SIZE step
    assert order.price is None
    assert order.notional == D("123.400")
    over = refused(r, OrderIntent("BUY", "MARKET", D("2.001")), average_price=D(100))
    assert over.reason == "2.001 ETH is above the maximum order quantity of 2 ETH."
    # A LIMIT order on the same symbol is not bound by MARKET_LOT_SIZE.
    assert quantize_order(r, limit(quantity="5")).quantity == D(5)
    own_step = rules(market_lot=LotRule(D("0.5"), D(0), D("0.5")))
    market = OrderIntent("BUY", "MARKET", D("1.7"))
    assert quantize_order(own_step, market, average_price=D(100)).quantity == D("1.5")
    tiny = refused(own_step, OrderIntent("BUY", "MARKET", D("0.4")), average_price=D(100))
    assert tiny.reason == "0.4 ETH is below the minimum order quantity of 0.5 ETH (step 0.5)."


def test_side_status_and_order_type_are_checked_first():
    assert refused(rules(), OrderIntent("HOLD", "LIMIT", D(1), D(100))).rule == "side"
    halted = refused(rules(status="HALT"), limit())
    assert (halted.rule, halted.reason) == ("status", "ETHUSDT is not trading (status HALT).")
    typed = rules(order_types=frozenset({"MARKET"}))
    wrong = refused(typed, limit())
    assert (wrong.rule, wrong.reason) == ("orderTypes", "ETHUSDT does not accept LIMIT orders.")
    # An empty list of order types means "not published": anything goes.
    assert quantize_order(rules(order_types=frozenset()), limit()).price == D(100)


def test_prices_are_required_positive_and_within_the_price_filter():
    missing = refused(rules(), OrderIntent("BUY", "LIMIT", D(1)))
    assert (missing.rule, missing.reason) == ("price", "A LIMIT order needs a price.")
    for bad in ("0", "-1"):
        negative = refused(rules(), limit(price=bad))
        assert (negative.rule, negative.reason) == ("price", "The price must be above zero.")
    no_min = rules(notional=None)
    assert quantize_order(no_min, limit(price="0.01", quantity="100")).price == D("0.01")
    assert quantize_order(rules(), limit(price="10000", quantity="0.001")).price == D(10_000)
    low = refused(rules(price=PriceRule(D("0.05"), D(10_000), D("0.01"))), limit(price="0.04"))
    assert (low.rule, low.reason) == (
        "PRICE_FILTER",
        "A price of 0.04 USDT is below the minimum of 0.05 USDT.",
    )
    high = refused(rules(), limit(side="SELL", price="10000.001", quantity="0.001"))
    assert (high.rule, high.reason) == (
        "PRICE_FILTER",
        "A price of 10000.01 USDT is above the maximum of 10000 USDT.",
    )
    # Zero bounds mean "no bound".
    open_rules = rules(price=PriceRule(D(0), D(0), D(0)))
    assert quantize_order(open_rules, limit(price="123456.789")).price == D("123456.789")
    # A buy price that rounds down to nothing is refused, not sent at zero.
    rounds_to_zero = refused(rules(price=PriceRule(D(0), D(0), D(1))), limit(price="0.5"))
    assert (rounds_to_zero.rule, rounds_to_zero.reason) == (
        "price",
        "The price must be above zero.",
    )
    # A maximum below one unit of quote is still a maximum.
    sub_unit = rules(price=PriceRule(D(0), D("0.5"), D("0.0001")), notional=None)
    over = refused(sub_unit, limit(side="SELL", price="0.6"))
    assert (over.rule, over.reason) == (
        "PRICE_FILTER",
        "A price of 0.6 USDT is above the maximum of 0.5 USDT.",
    )
    assert quantize_order(sub_unit, limit(price="0.5")).price == D("0.5")


def test_stop_prices_round_like_prices_and_are_checked():
    r = rules(order_types=frozenset({"STOP_LOSS_LIMIT", "STOP_LOSS", "LIMIT"}))
    order = quantize_order(
        r, OrderIntent("SELL", "STOP_LOSS_LIMIT", D(1), D("99.001"), D("99.501"))
    )
    assert (order.price, order.stop_price) == (D("99.01"), D("99.51"))
    assert order.wire_params() == {"quantity": "1", "price": "99.01", "stopPrice": "99.51"}
    buy = quantize_order(r, OrderIntent("BUY", "STOP_LOSS", D(1), None, D("99.509")))
    assert (buy.price, buy.stop_price) == (None, D("99.50"))
    assert buy.wire_params() == {"quantity": "1", "stopPrice": "99.5"}
    for stop in (None, D(0)):
        missing = refused(r, OrderIntent("SELL", "STOP_LOSS", D(1), None, stop))
        assert (missing.rule, missing.reason) == (
            "stopPrice",
            "A STOP_LOSS order needs a stop price.",
        )
    low = refused(
        rules(price=PriceRule(D(50), D(0), D("0.01"))),
        OrderIntent("SELL", "STOP_LOSS", D(1), None, D(49)),
    )
    assert low.reason == "A stop price of 49 USDT is below the minimum of 50 USDT."


def test_percent_price_bounds_are_inclusive_and_per_side():
    band = PercentPriceRule(D("1.1"), D("0.9"), D("1.2"), D("0.8"))
    assert band.bounds("BUY", D(100)) == (D(90), D("110.0"))
    assert band.bounds("SELL", D(100)) == (D(80), D("120.0"))
    r = rules(percent_price=band)
    avg = {"average_price": D(100)}
    assert quantize_order(r, limit(price="110"), **avg).price == D(110)
    assert quantize_order(r, limit(price="90"), **avg).price == D(90)
    assert quantize_order(r, limit(side="SELL", price="120"), **avg).price == D(120)
    assert quantize_order(r, limit(side="SELL", price="80"), **avg).price == D(80)
    far = refused(r, limit(price="110.01"), **avg)
    assert (far.rule, far.reason) == (
        "PERCENT_PRICE",
        "A price of 110.01 USDT is outside the allowed range 90 to 110 USDT around the "
        "average price 100.",
    )
    assert refused(r, limit(price="89.99"), **avg).rule == "PERCENT_PRICE"
    # Without an average price the band cannot be checked here (Binance still does).
    assert quantize_order(r, limit(price="500")).price == D(500)


def test_notional_bounds_are_inclusive():
    assert quantize_order(rules(), limit(quantity="0.05", price="100")).notional == D("5.00000")
    low = refused(rules(), limit(quantity="0.049", price="100"))
    assert (low.rule, low.reason) == (
        "NOTIONAL",
        "0.049 ETH at 100 USDT is 4.9 USDT, below the minimum notional of 5 USDT.",
    )
    capped = rules(notional=NotionalRule(D(5), D(1000)))
    assert quantize_order(capped, limit(quantity="10", price="100")).notional == D(1000)
    high = refused(capped, limit(quantity="10.001", price="100"))
    assert (high.rule, high.reason) == (
        "NOTIONAL",
        "10.001 ETH at 100 USDT is 1000.1 USDT, above the maximum notional of 1000 USDT.",
    )


def test_market_orders_follow_the_apply_to_market_flags():
    market = OrderIntent("BUY", "MARKET", D("0.01"))
    avg = {"average_price": D(100)}
    # applyMinToMarket (default True): a 1 USDT market order is refused...
    assert refused(rules(), market, **avg).rule == "NOTIONAL"
    # ...and allowed when the symbol does not apply the minimum to market orders.
    lenient = rules(notional=NotionalRule(D(5), D(0), apply_min_to_market=False))
    assert quantize_order(lenient, market, **avg).notional == D("1.00")
    big = OrderIntent("BUY", "MARKET", D(20))
    cap = NotionalRule(D(0), D(1000))  # applyMaxToMarket defaults to False
    assert quantize_order(rules(notional=cap), big, **avg).notional == D(2000)
    strict = NotionalRule(D(0), D(1000), apply_max_to_market=True)
    assert refused(rules(notional=strict), big, **avg).rule == "NOTIONAL"
    # A LIMIT order is bound by both whatever the market flags say.
    assert refused(lenient, limit(quantity="0.01")).rule == "NOTIONAL"
    # Without an average price a market order's notional is unknown: not checked here.
    order = quantize_order(rules(), market)
    assert order.notional == 0
    assert order.wire_params() == {"quantity": "0.01"}


def test_no_notional_filter_means_no_notional_check():
    order = quantize_order(rules(notional=None), limit(quantity="0.001", price="1"))
    assert order.notional == D("0.001")


def test_limits_below_one_unit_are_still_limits():
    lot = rules(lot=LotRule(D(0), D("0.5"), D("0.001")), notional=None)
    over = refused(lot, limit(quantity="0.6"))
    assert over.reason == "0.6 ETH is above the maximum order quantity of 0.5 ETH."
    capped = rules(notional=NotionalRule(D(0), D("0.5")))
    too_big = refused(capped, limit(quantity="0.006", price="100"))
    assert too_big.reason == (
        "0.006 ETH at 100 USDT is 0.6 USDT, above the maximum notional of 0.5 USDT."
    )
    stops = rules(order_types=frozenset({"STOP_LOSS"}), notional=None)
    order = quantize_order(stops, OrderIntent("SELL", "STOP_LOSS", D(1), None, D("0.5")))
    assert order.stop_price == D("0.50")


def test_a_quantity_that_rounds_to_zero_is_refused_even_without_a_minimum():
    no_minimum = rules(lot=LotRule(D(0), D(0), D("0.001")), notional=None)
    zero = refused(no_minimum, limit(quantity="0.0004"))
    assert zero.rule == "LOT_SIZE"
    assert zero.reason == "0.0004 ETH is below the minimum order quantity of 0 ETH (step 0.001)."


def test_the_base_precision_step_is_one_unit_of_the_last_digit():
    no_step = rules(lot=LotRule(), base_precision=3, notional=None)
    assert quantize_order(no_step, limit(quantity="1.2356")).quantity == D("1.235")


def test_a_bad_side_says_which_sides_exist():
    bad = refused(rules(), OrderIntent("HOLD", "LIMIT", D(1), D(100)))
    assert (bad.rule, bad.reason) == ("side", "The side must be BUY or SELL.")
