"""The pure filter adapter agrees with the gateway's quantize_order for market orders."""

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.backtest.engine import MarketRules
from apps.exchange.filters import (
    LotRule,
    NotionalRule,
    OrderIntent,
    OrderRefused,
    SymbolRules,
    quantize_order,
)

amounts = st.decimals(min_value=D("0.00000001"), max_value=D(10_000), places=8)


@settings(max_examples=300, deadline=None)
@given(
    quantity=amounts,
    price=st.decimals(min_value=D("0.0001"), max_value=D(1000), places=6),
    step=st.sampled_from([D(0), D("0.00001"), D("0.001"), D(1)]),
    min_qty=st.sampled_from([D(0), D("0.01"), D(5)]),
    min_notional=st.sampled_from([D(0), D(5), D(100)]),
    side=st.sampled_from(["BUY", "SELL"]),
)
def test_market_quantity_matches_quantize_order(quantity, price, step, min_qty, min_notional, side):
    gateway_rules = SymbolRules(
        symbol="XY",
        base_asset="X",
        quote_asset="Y",
        lot=LotRule(min_qty, D(0), step),
        notional=NotionalRule(min_notional, D(0), True, False),
    )
    ours = MarketRules(step_size=step, min_qty=min_qty, min_notional=min_notional)
    try:
        expected = quantize_order(
            gateway_rules, OrderIntent(side, "MARKET", quantity), average_price=price
        ).quantity
    except OrderRefused:
        expected = None
    assert ours.market_quantity(quantity, price) == expected
