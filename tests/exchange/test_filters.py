"""Filter quantization: examples and hypothesis properties."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.exchange.filters import (
    OrderIntent,
    OrderRefused,
    SymbolRules,
    quantize_order,
)

D = Decimal
BTCUSDT = {
    "symbol": "BTCUSDT",
    "status": "TRADING",
    "baseAsset": "BTC",
    "quoteAsset": "USDT",
    "baseAssetPrecision": 8,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT"],
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.01",
            "maxPrice": "1000000.00",
            "tickSize": "0.01",
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": "0.00001",
            "maxQty": "9000.00000000",
            "stepSize": "0.00001",
        },
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00", "maxQty": "100.0", "stepSize": "0.00"},
        {
            "filterType": "NOTIONAL",
            "minNotional": "5.00",
            "applyMinToMarket": True,
            "maxNotional": "9000000.00",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
        {
            "filterType": "PERCENT_PRICE_BY_SIDE",
            "bidMultiplierUp": "5",
            "bidMultiplierDown": "0.2",
            "askMultiplierUp": "5",
            "askMultiplierDown": "0.2",
            "avgPriceMins": 5,
        },
    ],
}
RULES = SymbolRules.from_exchange_info(BTCUSDT)


def test_limit_buy_rounds_quantity_down_and_price_down():
    order = quantize_order(
        RULES,
        OrderIntent("BUY", "LIMIT", D("0.123456789"), D("30000.019")),
        average_price=D("30000"),
    )
    assert order.quantity == D("0.12345")
    assert order.price == D("30000.01")
    assert order.wire_params() == {"quantity": "0.12345", "price": "30000.01"}


def test_limit_sell_rounds_price_up():
    order = quantize_order(RULES, OrderIntent("SELL", "LIMIT", D("1"), D("30000.011")))
    assert order.price == D("30000.02")


def test_below_minimum_notional_is_refused_with_a_readable_reason():
    with pytest.raises(OrderRefused) as refused:
        quantize_order(RULES, OrderIntent("BUY", "LIMIT", D("0.00001"), D("30000")))
    assert refused.value.rule == "NOTIONAL"
    assert "0.00001 BTC at 30000 USDT is 0.3 USDT, below the minimum notional of 5 USDT" in str(
        refused.value.reason
    )


def test_market_order_uses_average_price_for_notional_and_market_lot_size():
    with pytest.raises(OrderRefused) as refused:
        quantize_order(RULES, OrderIntent("BUY", "MARKET", D("150")), average_price=D("30000"))
    assert refused.value.rule == "LOT_SIZE"
    order = quantize_order(
        RULES, OrderIntent("BUY", "MARKET", D("0.001")), average_price=D("30000")
    )
    assert order.notional == D("30.000")


def test_percent_price_by_side_refuses_a_far_price():
    with pytest.raises(OrderRefused) as refused:
        quantize_order(
            RULES, OrderIntent("SELL", "LIMIT", D("1"), D("200000")), average_price=D("30000")
        )
    assert refused.value.rule == "PERCENT_PRICE"


def test_not_trading_symbol_and_unknown_type_are_refused():
    halted = SymbolRules.from_exchange_info({**BTCUSDT, "status": "HALT"})
    with pytest.raises(OrderRefused, match="not trading"):
        quantize_order(halted, OrderIntent("BUY", "LIMIT", D("1"), D("1")))
    with pytest.raises(OrderRefused, match="does not accept"):
        quantize_order(RULES, OrderIntent("BUY", "TAKE_PROFIT", D("1"), stop_price=D("1")))


def test_legacy_min_notional_and_percent_price_filters_are_read():
    legacy = SymbolRules.from_exchange_info(
        {
            "symbol": "ETHBTC",
            "baseAsset": "ETH",
            "quoteAsset": "BTC",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.000001",
                    "maxPrice": "0",
                    "tickSize": "0.000001",
                },
                {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "0", "stepSize": "0.001"},
                {"filterType": "MIN_NOTIONAL", "minNotional": "0.0001", "applyToMarket": True},
                {"filterType": "PERCENT_PRICE", "multiplierUp": "1.1", "multiplierDown": "0.9"},
            ],
        }
    )
    assert legacy.notional.min_notional == D("0.0001")
    assert legacy.percent_price.ask_up == D("1.1")
    with pytest.raises(OrderRefused):
        quantize_order(
            legacy, OrderIntent("BUY", "LIMIT", D("1"), D("0.1")), average_price=D("0.05")
        )


# --- properties --------------------------------------------------------------------

steps = st.sampled_from(
    [D("1"), D("0.1"), D("0.001"), D("0.00001"), D("0.00000001"), D("5"), D("0.25")]
)


@st.composite
def rules_and_intents(draw):
    tick = draw(steps)
    step = draw(steps)
    min_qty = step * draw(st.integers(1, 10))
    min_price = tick * draw(st.integers(1, 10))
    min_notional = draw(st.sampled_from([D("0"), D("1"), D("5"), D("10"), D("0.0001")]))
    rules = SymbolRules.from_exchange_info(
        {
            "symbol": "XY",
            "baseAsset": "X",
            "quoteAsset": "Y",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": str(min_price),
                    "maxPrice": str(tick * 10**9),
                    "tickSize": str(tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": str(min_qty),
                    "maxQty": str(step * 10**9),
                    "stepSize": str(step),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": str(min_notional),
                    "maxNotional": "0",
                    "applyMinToMarket": True,
                },
            ],
        }
    )
    quantity = draw(
        st.decimals(
            min_value=D("0"), max_value=D("1e6"), places=10, allow_nan=False, allow_infinity=False
        )
    )
    price = draw(
        st.decimals(
            min_value=D("0.00000001"),
            max_value=D("1e6"),
            places=10,
            allow_nan=False,
            allow_infinity=False,
        )
    )
    side = draw(st.sampled_from(["BUY", "SELL"]))
    return rules, OrderIntent(side, "LIMIT", quantity, price)


def _passes(rules: SymbolRules, order) -> bool:
    lot, price = rules.lot, rules.price
    return (
        order.quantity % lot.step_size == 0
        and lot.min_qty <= order.quantity <= lot.max_qty
        and order.price % price.tick_size == 0
        and price.min_price <= order.price <= price.max_price
        and order.quantity * order.price >= rules.notional.min_notional
    )


@settings(max_examples=400, deadline=None)
@given(rules_and_intents())
def test_result_always_passes_the_filters_or_is_refused(case):
    rules, intent = case
    try:
        order = quantize_order(rules, intent)
    except OrderRefused:
        return
    assert _passes(rules, order)


@settings(max_examples=400, deadline=None)
@given(rules_and_intents())
def test_rounding_never_disfavours_the_owner_beyond_one_step_or_tick(case):
    rules, intent = case
    try:
        order = quantize_order(rules, intent)
    except OrderRefused:
        return
    assert intent.quantity - rules.lot.step_size < order.quantity <= intent.quantity
    if intent.side == "BUY":
        assert intent.price - rules.price.tick_size < order.price <= intent.price
    else:
        assert intent.price <= order.price < intent.price + rules.price.tick_size


@settings(max_examples=200, deadline=None)
@given(rules_and_intents())
def test_an_already_valid_order_is_unchanged(case):
    rules, intent = case
    try:
        first = quantize_order(rules, intent)
    except OrderRefused:
        return
    again = quantize_order(rules, OrderIntent(intent.side, "LIMIT", first.quantity, first.price))
    assert (again.quantity, again.price) == (first.quantity, first.price)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["BUY", "SELL"]),
    st.sampled_from(["MARKET", "STOP_LOSS_LIMIT"]),
    st.decimals(min_value=D("0"), max_value=D("200"), places=9),
    st.decimals(min_value=D("100"), max_value=D("100000"), places=4),
    st.decimals(min_value=D("0.5"), max_value=D("1.5"), places=3),
)
def test_market_and_stop_orders_pass_or_are_refused(side, order_type, quantity, average, factor):
    price = average * factor
    intent = OrderIntent(side, order_type, quantity, price, stop_price=price)
    try:
        order = quantize_order(RULES, intent, average_price=average)
    except OrderRefused:
        return
    lot = RULES.lot
    if order_type == "MARKET":
        assert order.price is None
        assert order.quantity <= RULES.market_lot.max_qty
        assert order.notional == order.quantity * average >= D("5")
    else:
        assert order.price % RULES.price.tick_size == 0
        assert order.stop_price % RULES.price.tick_size == 0
        assert order.quantity * order.price >= D("5")
        assert D("0.2") * average <= order.price <= D("5") * average
        if side == "BUY":
            assert order.stop_price <= price
        else:
            assert order.stop_price >= price
    assert order.quantity % lot.step_size == 0
    assert quantity - lot.step_size < order.quantity <= quantity
