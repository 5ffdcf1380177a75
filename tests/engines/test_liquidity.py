"""The liquidity engine (apps/risk/engine/liquidity.py): hand-computed books, then
properties of the walk over random books (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.risk.engine.liquidity import BUY, SELL, BookView, depth_within, market_fill

D = Decimal
CENT = D("0.01")

# bids 100 x1, 99 x2, 98 x5; asks 101 x1, 102 x2, 104 x10 (quote: 100, 198, 490 / 101, 204, 1040)
BOOK = BookView.from_sides(
    "BTCUSDT",
    {D(99): D(2), D(100): D(1), D(98): D(5), D(97): D(0)},
    [(D(104), D(10)), (D(101), D(1)), (D(102), D(2))],
    time_ms=123,
)


def bps(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def test_best_prices_mid_and_spread_of_a_hand_computed_book():
    assert BOOK.bids == ((D(100), D(1)), (D(99), D(2)), (D(98), D(5)))  # empty level dropped
    assert BOOK.asks == ((D(101), D(1)), (D(102), D(2)), (D(104), D(10)))
    assert (BOOK.best_bid, BOOK.best_ask, BOOK.mid) == (D(100), D(101), D("100.5"))
    # 1 / 100.5 = 99.50 bps
    assert bps(BOOK.spread_bps) == D("99.50")
    assert BOOK.time_ms == 123


def test_from_sides_keeps_only_the_best_levels_asked_for():
    top = BookView.from_sides("X", BOOK.bids, BOOK.asks, levels=2)
    assert top.bids == BOOK.bids[:2]
    assert top.asks == BOOK.asks[:2]


def test_depth_within_a_band_around_the_mid():
    # 100 bps: floor 99.495, ceiling 101.505 -> only the best level on each side.
    assert depth_within(BOOK, D(100))[1:] == (D(100), D(101))
    # 200 bps: floor 98.49, ceiling 102.51 -> two levels each.
    assert depth_within(BOOK, D(200))[1:] == (D(298), D(305))
    assert depth_within(BookView("X", bids=BOOK.bids), D(50)) is None


def test_a_buy_walks_the_asks_and_reports_its_average_price_and_slippage():
    within_two_levels = market_fill(BOOK, BUY, D(305))
    assert within_two_levels.complete
    assert within_two_levels.quantity == D(3)
    assert within_two_levels.levels_used == 2
    # 305 / 3 = 101.67 against a mid of 100.5: 116.09 bps.
    assert bps(within_two_levels.slippage_bps) == D("116.09")
    partial_third = market_fill(BOOK, BUY, D(357))  # 101 + 204 + half of 104 x1
    assert partial_third.quantity == D("3.5")
    assert partial_third.average_price == D(102)
    assert bps(partial_third.slippage_bps) == D("149.25")  # 1.5 / 100.5
    against_best = market_fill(BOOK, BUY, D(357), reference="best")
    assert bps(against_best.slippage_bps) == D("99.01")  # 1 / 101


def test_a_sell_walks_the_bids():
    fill = market_fill(BOOK, SELL, D(298))
    assert fill.complete
    assert fill.quantity == D(3)
    assert bps(fill.slippage_bps) == D("116.09")  # (100.5 - 99.33) / 100.5
    assert market_fill(BOOK, SELL, D(50), reference="best").slippage_bps == 0


def test_a_book_too_thin_for_the_amount_says_so():
    fill = market_fill(BOOK, BUY, D(10_000))
    assert not fill.complete
    assert fill.quantity == D(13)
    assert fill.unfilled_quote == D(10_000) - D(1345)
    empty = market_fill(BookView("X", bids=BOOK.bids), BUY, D(10))
    assert (empty.complete, empty.quantity, empty.average_price) == (False, D(0), None)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="side"):
        market_fill(BOOK, "HOLD", D(1))
    with pytest.raises(ValueError, match="quote"):
        market_fill(BOOK, BUY, 10.0)
    with pytest.raises(ValueError, match="reference"):
        market_fill(BOOK, BUY, D(1), reference="last")


# --- properties -----------------------------------------------------------------------

quantities = st.decimals(min_value=D("0.00001"), max_value=D(1000), places=5)


@st.composite
def books(draw) -> BookView:
    """An uncrossed book around a price from 0.0001 to 100,000 with up to 30 levels a side."""
    tick = draw(st.sampled_from([D("0.0001"), D("0.01"), D(1)]))
    centre = draw(st.integers(min_value=10, max_value=100_000))
    bid_ticks = draw(st.sets(st.integers(min_value=1, max_value=centre - 1), min_size=1,
                             max_size=30))  # fmt: skip
    ask_ticks = draw(st.sets(st.integers(min_value=centre + 1, max_value=2 * centre),
                             min_size=1, max_size=30))  # fmt: skip
    bids = {t * tick: draw(quantities) for t in bid_ticks}
    asks = {t * tick: draw(quantities) for t in ask_ticks}
    return BookView.from_sides("X", bids, asks)


def side_total(book: BookView, side: str) -> Decimal:
    levels = book.asks if side == BUY else book.bids
    return sum((p * q for p, q in levels), D(0))


TOLERANCE = D("1e-20")


@settings(max_examples=200, deadline=None)
@given(book=books(), side=st.sampled_from([BUY, SELL]), share=st.fractions(0, 2))
def test_a_fill_stays_within_the_prices_it_walked_and_spends_what_it_was_given(book, side, share):
    total = side_total(book, side)
    quote = max(D("0.0001"), total * D(share.numerator) / D(share.denominator))
    fill = market_fill(book, side, quote)
    levels = book.asks if side == BUY else book.bids
    assert fill.complete == (quote <= total)
    spent = quote - fill.unfilled_quote
    assert abs(fill.quantity * fill.average_price - spent) <= spent * TOLERANCE
    best, worst = levels[0][0], levels[fill.levels_used - 1][0]
    low, high = sorted((best, worst))
    assert low * (1 - TOLERANCE) <= fill.average_price <= high * (1 + TOLERANCE)
    against_best = market_fill(book, side, quote, reference="best").slippage_bps
    assert against_best >= -TOLERANCE
    # The mid is better than the best price on this side, so slippage against it is larger.
    assert fill.slippage_bps >= against_best - TOLERANCE


@settings(max_examples=150, deadline=None)
@given(book=books(), side=st.sampled_from([BUY, SELL]), a=st.fractions(0, 1), b=st.fractions(0, 1))
def test_a_larger_order_never_gets_a_better_average_price(book, side, a, b):
    total = side_total(book, side)
    small, large = sorted(
        max(D("0.0001"), total * D(x.numerator) / D(x.denominator)) for x in (a, b)
    )
    first, second = market_fill(book, side, small), market_fill(book, side, large)
    assert second.slippage_bps >= first.slippage_bps - TOLERANCE * 10
    assert second.quantity >= first.quantity


@settings(max_examples=150, deadline=None)
@given(book=books(), near=st.decimals(0, 500, places=2), far=st.decimals(0, 500, places=2))
def test_depth_grows_with_the_band_and_spread_is_positive(book, near, far):
    near, far = sorted((near, far))
    inner, outer = depth_within(book, near), depth_within(book, far)
    assert inner.bid_quote <= outer.bid_quote
    assert inner.ask_quote <= outer.ask_quote
    # A band wide enough to reach the furthest ask takes in both whole sides.
    widest = (book.asks[-1][0] / book.mid - 1) * D(10_000) + 1
    everything = depth_within(book, max(widest, D(10_000)))
    assert everything.bid_quote == side_total(book, SELL)
    assert everything.ask_quote == side_total(book, BUY)
    assert book.spread_bps > 0
