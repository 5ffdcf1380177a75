"""Pure position accounting: hand computations and properties over random fills."""

from datetime import date
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.trading.accounting import (
    AccountingError,
    FillEvent,
    Flow,
    OversellError,
    PositionBook,
    apply_fill,
    attribute,
    daily_pnl,
    drawdown,
    max_sell,
    replay,
    trading_day,
    unmanaged_reserve,
)

D = Decimal
STORED = D("1e-18")


def buy(price, qty, fee="0", asset="USDT", **kw):
    return FillEvent("BUY", D(price), D(qty), "BTC", "USDT", D(fee), asset, **kw)


def sell(price, qty, fee="0", asset="USDT", **kw):
    return FillEvent("SELL", D(price), D(qty), "BTC", "USDT", D(fee), asset, **kw)


def test_round_trip_by_hand_with_fees_in_every_asset():
    book = PositionBook()
    # 1 BTC at 100 paying 0.001 BTC: receives 0.999 BTC for 100 USDT.
    book = apply_fill(book, buy("100", "1", "0.001", "BTC"))
    assert book.quantity == D("0.999")
    assert book.cost == D("100")
    # 1 BTC at 110 paying 0.5 BNB at 2 USDT/BNB: cost 110 + 1 = 111.
    book = apply_fill(book, buy("110", "1", "0.5", "BNB", commission_rate=D("2")))
    assert book.quantity == D("1.999")
    assert book.cost == D("211")
    assert book.fees == D("0.1") + D("1")  # 0.001 BTC valued at 100 + 1 USDT
    # Sell 1 at 120 paying 0.12 USDT: releases 211 * 1/1.999 of the cost.
    book = apply_fill(book, sell("120", "1", "0.12"))
    with localcontext() as ctx:
        ctx.prec = 60
        expected = D("119.88") - D("211") / D("1.999")
    assert book.realized_pnl == expected
    # Sell the remaining 0.999 at 90 paying 0.0899 USDT: flat.
    book = apply_fill(book, sell("90", "0.999", "0.0899"))
    assert book.quantity == 0
    assert book.cost == 0
    # By hand: proceeds 119.88 + 89.8201 = 209.7001 minus 211 spent.
    assert book.realized_pnl == D("209.7001") - D("211")
    assert book.realized_pnl == D("-1.2999")


def test_realized_value_uses_each_sales_quote_rate():
    book = apply_fill(PositionBook(), FillEvent("BUY", D("0.05"), D("2"), "ETH", "BTC"))
    book = apply_fill(
        book, FillEvent("SELL", D("0.06"), D("2"), "ETH", "BTC", quote_rate=D("30000"))
    )
    assert book.realized_pnl == D("0.02")
    assert book.realized_value == D("600")


def test_a_third_asset_commission_needs_its_rate():
    with pytest.raises(AccountingError) as caught:
        apply_fill(PositionBook(), buy("100", "1", "0.01", "BNB"))
    assert caught.value.field == "commission_rate"


def test_a_sell_larger_than_the_position_is_refused():
    book = apply_fill(PositionBook(), buy("100", "1"))
    with pytest.raises(OversellError):
        apply_fill(book, sell("100", "1.5"))


def test_floats_are_refused():
    with pytest.raises(AccountingError):
        FillEvent("BUY", 100.0, D("1"), "BTC", "USDT")


def test_dust_closes_the_round_trip_and_opens_the_next():
    fills = [
        buy("100", "1", time_ms=1),
        sell("100", "0.99", time_ms=2),  # 0.01 left, worth 1 USDT < 5 minimum
        buy("100", "1", time_ms=3),
    ]
    ledger = replay(fills, min_notional=D("5"))
    assert len(ledger.closed) == 1
    assert ledger.closed[0].dust_quantity == D("0.01")
    assert ledger.open.quantity == D("1.01")  # the dust merged into the next position
    assert ledger.held == D("1.01")


def test_two_configs_on_one_symbol_keep_separate_positions():
    ledgers = attribute(
        [
            (("acct", "cfg-a", "BTCUSDT"), buy("100", "1", time_ms=1)),
            (("acct", "cfg-b", "BTCUSDT"), buy("200", "2", time_ms=2)),
            (("acct", "cfg-a", "BTCUSDT"), sell("150", "1", time_ms=3)),
        ]
    )
    assert ledgers[("acct", "cfg-a", "BTCUSDT")].realized_pnl == D("50")
    assert ledgers[("acct", "cfg-a", "BTCUSDT")].open is None
    assert ledgers[("acct", "cfg-b", "BTCUSDT")].open.quantity == D("2")


def test_unmanaged_reserve_and_max_sell():
    reserve = unmanaged_reserve(
        {"BTC": D("3"), "ETH": D("1")}, [("BTC", D("1")), ("BTC", D("0.5")), ("ETH", D("2"))]
    )
    assert reserve == {"BTC": D("1.5"), "ETH": D("-1")}
    # The position may sell itself, never the reserve; a shortfall limits it.
    assert max_sell(position=D("1"), balance=D("3"), other_positions=D("0.5")) == D("1")
    assert max_sell(position=D("1"), balance=D("1.2"), other_positions=D("0.5")) == D("0.7")
    assert max_sell(position=D("1"), balance=D("0.2"), other_positions=D("0.5")) == 0


def test_trading_day_is_the_utc_day():
    assert trading_day(1_700_006_399_999) == date(2023, 11, 14)  # 23:59:59.999 UTC
    assert trading_day(1_700_006_400_000) == date(2023, 11, 15)


def test_deposits_are_not_profit_nor_drawdown():
    day = 1_700_006_400_000
    flows = [Flow(day + 10, D("1000"))]
    pnl = daily_pnl(day_start_equity=D("1000"), equity=D("1900"), flows=flows, now_ms=day + 20)
    assert pnl == D("-100")
    # 1000, then a 1000 deposit, then a 100 loss: 5% drawdown, not 10% or a 90% gain.
    points = [(day, D("1000")), (day + 10, D("2000")), (day + 20, D("1900"))]
    current, worst = drawdown(points, flows)
    assert current == worst == D("0.05")
    # A withdrawal is not a loss.
    current, _ = drawdown([(day, D("1000")), (day + 10, D("500"))], [Flow(day + 5, D("-500"))])
    assert current == 0


amounts = st.decimals(min_value=D("0.00001"), max_value=D("1000"), places=5)
prices = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)


@st.composite
def fill_sequences(draw):
    """Buys and sells of one key that never sell more than held, fees in any asset."""
    held = D(0)
    fills = []
    for index in range(draw(st.integers(1, 25))):
        price = draw(prices)
        fee_asset = draw(st.sampled_from(["USDT", "BTC", "BNB", ""]))
        if held > 0 and draw(st.booleans()):
            qty = min(held, draw(amounts))
            if draw(st.booleans()):
                qty = held  # close out
            fee = draw(st.decimals(min_value=0, max_value=D("5"), places=4))
            if fee_asset == "BTC":
                fee_asset = "USDT"  # Binance charges a sell in what it receives
            fills.append(sell(price, qty, fee, fee_asset, commission_rate=D("3"), time_ms=index))
            held -= qty
        else:
            qty = draw(amounts)
            fee = (
                qty * D("0.001")
                if fee_asset == "BTC"
                else draw(st.decimals(min_value=0, max_value=D("5"), places=4))
            )
            fills.append(buy(price, qty, fee, fee_asset, commission_rate=D("3"), time_ms=index))
            held += qty - (fee if fee_asset == "BTC" else 0)
    return fills


def base_delta(f: FillEvent) -> Decimal:
    return (f.quantity - f.base_fee) if f.side == "BUY" else -(f.quantity + f.base_fee)


@settings(max_examples=300, deadline=None)
@given(fill_sequences())
def test_position_equals_the_sum_of_attributed_fills(fills):
    ledger = replay(fills)
    assert ledger.held == sum((base_delta(f) for f in fills), D(0))


@settings(max_examples=300, deadline=None)
@given(fill_sequences())
def test_realized_pnl_of_closed_round_trips_equals_the_hand_computation(fills):
    ledger = replay(fills)
    for closed in ledger.closed:
        book = closed.book
        # Every unit bought was sold: proceeds - spending - fees paid outside the base,
        # exact at the 18 places the database stores (partial sales divide the cost).
        hand = book.sold_value - book.bought_value - (book.fees - _base_fee_values(fills, book))
        assert book.realized_pnl.quantize(STORED) == hand.quantize(STORED)


def _base_fee_values(fills, book):
    # Fees paid in the base asset are already in the smaller quantity held, so they
    # do not appear as cash: sum them for the fills of this round trip.
    first, last = book.opened_ms, book.last_ms
    return sum(
        (f.fee_in_quote for f in fills if first <= f.time_ms <= last and f.base_fee),
        D(0),
    )


def test_the_accounting_engine_imports_no_django():
    import subprocess
    import sys

    code = (
        "import sys; import apps.trading.accounting, apps.trading.accounting.stats; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["cfg-a", "cfg-b", "cfg-c"]), fill_sequences()),
                min_size=1, max_size=4))  # fmt: skip
def test_interleaved_keys_each_equal_their_own_fills(groups):
    # Fills of several configs on one symbol, interleaved in time: attribution by key
    # gives each exactly the sum of its own fills.
    tagged = []
    expected: dict[str, Decimal] = {}
    for n, (config, fills) in enumerate(groups):
        key = ("acct", f"{config}-{n}", "BTCUSDT")
        expected[key] = sum((base_delta(f) for f in fills), D(0))
        tagged.extend((key, f) for f in fills)
    tagged.sort(key=lambda item: item[1].time_ms)
    ledgers = attribute(tagged)
    assert {key: ledger.held for key, ledger in ledgers.items()} == expected


def test_trade_stats_from_round_trips():
    from apps.trading.accounting.stats import ClosedResult, trade_stats

    stats = trade_stats(
        [
            ClosedResult(1, D("30")),
            ClosedResult(2, D("10")),
            ClosedResult(4, D("-4")),  # given out of order: sorted by time
            ClosedResult(3, D("-2")),
        ],
        entries_today=2,
    )
    assert (stats.trades, stats.wins) == (4, 2)
    assert stats.average_win == D("20")
    assert stats.average_loss == D("3")
    assert stats.consecutive_losses == 2
    assert stats.last_loss_at_ms == 4
    assert stats.trades_today == 2
    assert trade_stats([ClosedResult(1, D("-1")), ClosedResult(2, D(0))]).consecutive_losses == 0
