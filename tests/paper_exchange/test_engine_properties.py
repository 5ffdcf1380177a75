"""Property tests of the matching engine over random order sequences: balances are
conserved (every fill's base, quote and commission add up), never negative, locked
amounts match open orders, and the unfilled-order count matches unfilled orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from apps.paper_exchange import errors
from apps.paper_exchange.clock import MarketClock
from apps.paper_exchange.config import ExchangeConfig, RateLimits
from apps.paper_exchange.engine.matching import MatchingEngine
from apps.paper_exchange.engine.requests import OcoRequest, OrderRequest
from apps.paper_exchange.marketdata.market import build_market
from apps.paper_exchange.numbers import floor_to
from apps.paper_exchange.ratelimit import RateLimiter
from apps.paper_exchange.state import Store

START = 1_795_000_000_000
SYMBOL = "BTCUSDT"
INITIAL = {"USDT": Decimal(20000), "BTC": Decimal("0.3")}


@pytest.fixture(scope="module")
def market():
    return build_market(
        ExchangeConfig(data_dir=None, synthetic_symbols=(SYMBOL,), synthetic_history_days=0.2),
        START,
    )


class World:
    """One engine with a fresh store, a manual clock and an order counter."""

    def __init__(self, market, book_levels: int):
        self.clock = MarketClock(START, manual=True)
        self.store = Store()
        self.limiter = RateLimiter(RateLimits(orders_short=10**6, orders_long=10**6), now=lambda: 0)
        self.engine = MatchingEngine(
            self.store,
            market,
            now=self.clock.now,
            book_levels=book_levels,
            on_first_fill=self.limiter.order_filled,
        )
        self.engine.catch_up(START)
        self.account = self.store.new_account()
        for asset, amount in INITIAL.items():
            self.account.balance(asset).free = amount
        self.spec = market.specs[SYMBOL]
        self.market = market

    def price(self, factor: Decimal) -> Decimal:
        last = self.market.last_price(SYMBOL, self.clock.now())
        return floor_to(last * factor, self.spec.tick_size)

    def place_oco(self, side: str, distance: Decimal, qty: Decimal, stop_limit: bool) -> None:
        up, down = self.price(1 + distance), self.price(1 - distance)
        stop_price, maker_price = (down, up) if side == "SELL" else (up, down)
        stop = OrderRequest(
            SYMBOL,
            side,
            "STOP_LOSS_LIMIT" if stop_limit else "STOP_LOSS",
            quantity=qty,
            stop_price=stop_price,
            price=stop_price if stop_limit else None,
            time_in_force="GTC" if stop_limit else None,
        )
        maker = OrderRequest(SYMBOL, side, "LIMIT_MAKER", quantity=qty, price=maker_price)
        above, below = (maker, stop) if side == "SELL" else (stop, maker)
        self.limiter.add_orders(self.account.account_id, 2)
        try:
            self.engine.place_oco(self.account, OcoRequest(SYMBOL, side, qty, above, below))
            event("OCO placed")
        except errors.ApiError as error:
            event(f"OCO rejected: {error.msg}")
            self.limiter.add_orders(self.account.account_id, -2)

    def place(self, request: OrderRequest) -> None:
        self.limiter.add_orders(self.account.account_id, 1)
        try:
            order, _ = self.engine.place(self.account, request)
            event(f"{request.type} {order.status}")
        except errors.ApiError as error:
            event(f"{request.type} rejected: {error.msg}")
            self.limiter.add_orders(self.account.account_id, -1)


actions = st.one_of(
    st.tuples(
        st.just("limit"),
        st.sampled_from(["BUY", "SELL"]),
        st.decimals(min_value=Decimal("0.995"), max_value=Decimal("1.005"), places=4),
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.2"), places=5),
        st.sampled_from(["GTC", "IOC", "FOK"]),
    ),
    st.tuples(
        st.just("market"),
        st.sampled_from(["BUY", "SELL"]),
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.5"), places=5),
        st.booleans(),
    ),
    st.tuples(
        st.just("stop"),
        st.sampled_from(["BUY", "SELL"]),
        st.sampled_from(["STOP_LOSS", "TAKE_PROFIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"]),
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.004"), places=4),
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.1"), places=5),
    ),
    st.tuples(
        st.just("oco"),
        st.sampled_from(["BUY", "SELL"]),
        st.decimals(min_value=Decimal("0.0005"), max_value=Decimal("0.003"), places=4),
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.1"), places=5),
        st.booleans(),
    ),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=2 * 3_600_000)),
)


def run(world: World, action) -> None:
    kind = action[0]
    if kind == "limit":
        _, side, factor, qty, tif = action
        world.place(
            OrderRequest(
                SYMBOL, side, "LIMIT", quantity=qty, price=world.price(factor), time_in_force=tif
            )
        )
    elif kind == "market":
        _, side, amount, by_quote = action
        if by_quote:
            request = OrderRequest(SYMBOL, side, "MARKET", quote_order_qty=amount * 10000)
        else:
            request = OrderRequest(SYMBOL, side, "MARKET", quantity=amount)
        world.place(request)
    elif kind == "stop":
        _, side, order_type, distance, qty = action
        above = (side == "BUY") == order_type.startswith("STOP_LOSS")
        stop = world.price(1 + distance if above else 1 - distance)
        limit = world.price(Decimal("1.01") if side == "BUY" else Decimal("0.99"))
        world.place(
            OrderRequest(
                SYMBOL,
                side,
                order_type,
                quantity=qty,
                stop_price=stop,
                price=limit if order_type.endswith("LIMIT") else None,
                time_in_force="GTC" if order_type.endswith("LIMIT") else None,
            )
        )
    elif kind == "oco":
        _, side, distance, qty, stop_limit = action
        world.place_oco(side, distance, qty, stop_limit)
    elif kind == "cancel":
        open_orders = world.store.account_open_orders(world.account.account_id)
        if open_orders:
            order = open_orders[action[1] % len(open_orders)]
            world.engine.cancel(world.account, SYMBOL, order.order_id, None)
    else:
        world.clock.advance(action[1])
        world.engine.catch_up(world.clock.now())


def check_invariants(world: World) -> None:
    account = world.account
    fills = world.store.fills[(account.account_id, SYMBOL)]
    base = INITIAL["BTC"]
    quote = INITIAL["USDT"]
    for fill in fills:
        if fill.is_buyer:
            base += fill.qty - fill.commission
            quote -= fill.quote_qty
            assert fill.commission_asset == "BTC"
        else:
            base -= fill.qty
            quote += fill.quote_qty - fill.commission
            assert fill.commission_asset == "USDT"
        assert fill.quote_qty >= 0
        assert fill.commission >= 0
    btc, usdt = account.balance("BTC"), account.balance("USDT")
    assert btc.free + btc.locked == base
    assert usdt.free + usdt.locked == quote
    for balance in (btc, usdt):
        assert balance.free >= 0
        assert balance.locked >= 0
    open_orders = world.store.account_open_orders(account.account_id)
    for asset, balance in (("BTC", btc), ("USDT", usdt)):
        reserved = sum((o.locked for o in open_orders if o.lock_asset == asset), Decimal(0))
        assert balance.locked == reserved
    all_orders = world.store.orders[SYMBOL].values()
    for order in all_orders:
        assert order.executed_qty >= 0
        if order.quote_order_qty == 0:
            assert order.executed_qty <= order.orig_qty
        assert order.is_open or order.locked == 0
    unfilled = sum(1 for order in all_orders if not order.had_fill)
    [(_, _, short), (_, _, long)] = world.limiter.order_counts(account.account_id)
    assert short == long == unfilled


# Each step is an action followed by some market time passing (possibly none).
steps = st.tuples(actions, st.integers(min_value=0, max_value=30 * 60_000))


@given(st.lists(steps, min_size=3, max_size=25), st.sampled_from([3, 1000]))
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_random_order_sequences_keep_the_books_straight(market, sequence, book_levels):
    world = World(market, book_levels)
    for action, pause in sequence:
        run(world, action)
        check_invariants(world)
        run(world, ("advance", pause))
        check_invariants(world)
    fills = world.store.fills[(world.account.account_id, SYMBOL)]
    event("maker fills" if any(fill.is_maker for fill in fills) else "no maker fill")
    orders = world.store.orders[SYMBOL].values()
    event("a stop triggered" if any(order.triggered for order in orders) else "no stop triggered")


def test_market_order_expires_with_a_partial_fill_when_liquidity_runs_out(market):
    world = World(market, book_levels=2)
    world.account.balance("BTC").free = Decimal(1000)
    order, fills = world.engine.place(
        world.account, OrderRequest(SYMBOL, "SELL", "MARKET", quantity=Decimal(500))
    )
    assert order.status == "EXPIRED"
    assert order.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert len(fills) == 2
    assert Decimal(0) < order.executed_qty < Decimal(500)
    assert world.account.balance("BTC").free == Decimal(1000) - order.executed_qty
    check_invariants_free(world)


def check_invariants_free(world: World) -> None:
    for balance in world.account.balances.values():
        assert balance.free >= 0
        assert balance.locked == 0
