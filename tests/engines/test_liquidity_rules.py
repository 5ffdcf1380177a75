"""The risk engine's liquidity limits: `max_spread_bps` and `max_slippage_bps` refuse an
entry on the live order book's figures, refuse without a fresh book, and stay out of
the way where no book exists (backtests) or when they are off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.risk.engine import Outcome, evaluate_entry
from apps.risk.engine.liquidity import BUY, BookView, market_fill
from apps.strategies.engine.errors import ParameterErrors

from .risk_builders import account, config, proposal
from .test_liquidity import books

D = Decimal

# Mid 100, spread 2 bps. The default profile sizes this entry to 25 units (25 % of
# 10,000 at 100): 2,500 USDT, which walks into the third ask level, about 12.35 bps
# above the mid.
BOOK = BookView.from_sides(
    "ETHUSDT",
    {D("99.99"): D(100), D("99.9"): D(100)},
    {D("100.01"): D(10), D("100.05"): D(10), D("100.5"): D(100)},
    time_ms=1,
)


def entry(book=BOOK, **limits):
    return evaluate_entry(config(**limits), account(), proposal(book=book, quote_asset="USDT"))


def verdict(decision, rule):
    return next(v for v in decision.verdicts if v.rule == rule)


def test_a_spread_wider_than_the_limit_refuses_the_entry():
    refused = entry(max_spread_bps=D(1))
    assert refused.outcome is Outcome.REJECTED
    assert refused.reasons == [
        "max_spread_bps: spread 2.00 bps (bid 99.99, ask 100.01) is wider than the 1 bps limit"
    ]
    allowed = entry(max_spread_bps=D(5))
    assert allowed.approved
    assert verdict(allowed, "max_spread_bps").passed


def test_slippage_of_this_orders_size_above_the_limit_refuses_the_entry():
    refused = entry(max_slippage_bps=D(10))
    assert refused.outcome is Outcome.REJECTED
    (reason,) = refused.reasons
    # 1000.10 + 1000.50 over 20 units, then 499.40 / 100.5: 2500 / 24.9691 = 100.12354
    assert reason == (
        "max_slippage_bps: buying 2500.00 USDT at market fills at 100.12354 on average, "
        "12.35 bps from the mid 100.00: above the 10 bps limit"
    )
    allowed = entry(max_slippage_bps=D(15))
    assert allowed.approved
    assert allowed.quantity == D(25)
    assert "within 15 bps" in verdict(allowed, "max_slippage_bps").reason


def test_a_book_too_thin_for_the_order_is_refused_as_not_enough_depth():
    thin = BookView.from_sides("ETHUSDT", {D(99): D(1)}, {D(101): D(1)})
    refused = entry(thin, max_slippage_bps=D(500))
    assert refused.reasons == [
        "max_slippage_bps: not enough depth: the book's 1 best ask levels hold 101.00 USDT, "
        "this entry needs 2500.00"
    ]


def test_no_fresh_order_book_refuses_when_a_limit_is_set():
    stale = BookView("ETHUSDT")  # what the live cycle passes without a fresh summary
    for limits in ({"max_spread_bps": D(5)}, {"max_slippage_bps": D(50)}):
        refused = entry(stale, **limits)
        assert refused.outcome is Outcome.REJECTED
        (reason,) = refused.reasons
        assert reason.endswith("no fresh order book for ETHUSDT")


def test_without_a_book_at_all_as_in_backtests_the_limits_do_not_refuse():
    decision = entry(None, max_spread_bps=D(1), max_slippage_bps=D(1))
    assert decision.approved
    for rule in ("max_spread_bps", "max_slippage_bps"):
        assert verdict(decision, rule).passed
        assert "not checked" in verdict(decision, rule).reason


def test_limits_off_add_no_verdict_even_without_a_book():
    decision = entry(BookView("ETHUSDT"))
    assert decision.approved
    assert not {"max_spread_bps", "max_slippage_bps"} & {v.rule for v in decision.verdicts}


@pytest.mark.parametrize("value", [D(0), D(-1), D(10_001), 5.0, D("NaN")])
@pytest.mark.parametrize("field", ["max_spread_bps", "max_slippage_bps"])
def test_bad_limits_are_refused_naming_the_field_and_the_rule(field, value):
    with pytest.raises(ParameterErrors) as caught:
        config(**{field: value})
    (error,) = caught.value.errors
    assert error.field == field
    assert error.rule in ("must be in (0, 10000]", "must be a Decimal number")


@settings(max_examples=150, deadline=None)
@given(
    book=books(),
    spread_limit=st.decimals(D("0.01"), D(10_000), places=2),
    slippage_limit=st.decimals(D("0.01"), D(10_000), places=2),
)
def test_an_approved_entry_never_exceeds_either_limit(book, spread_limit, slippage_limit):
    mid = book.mid
    decision = evaluate_entry(
        config(max_spread_bps=spread_limit, max_slippage_bps=slippage_limit),
        account(equity=D(1_000_000), peak_equity=D(1_000_000), day_start_equity=D(1_000_000)),
        proposal(symbol="X", entry=mid, stop=mid * D("0.98"), target=mid * D("1.06"), book=book),
    )
    if decision.approved:
        assert book.spread_bps <= spread_limit
        fill = market_fill(book, BUY, decision.quantity * mid)
        assert fill.complete
        assert fill.slippage_bps <= slippage_limit
