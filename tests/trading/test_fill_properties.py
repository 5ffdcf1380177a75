"""The database path agrees with the pure engine: random fills applied through the
service leave each position equal to the sum of its fills, with the engine's PnL."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.trading.accounting import FillEvent, replay
from apps.trading.models import Position
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

D = Decimal
STORED = D("1e-18")
MIN_NOTIONAL = D("5")  # of BTCUSDT in sync_default_symbols


@st.composite
def trades(draw):
    """Buys and sells that never sell more than the open position; a remainder worth
    less than the minimum notional (5 USDT) becomes dust and waits for the next buy."""
    held = dust = D(0)
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        price = draw(st.decimals(min_value=D("1"), max_value=D("50000"), places=2))
        if held > 0 and draw(st.booleans()):
            qty = held if draw(st.booleans()) else min(held, draw(st.sampled_from(
                [D("0.5"), D("1"), D("0.25")])))  # fmt: skip
            steps.append(("SELL", price, qty, D("0.1"), "USDT"))
            held -= qty
            if held * price < MIN_NOTIONAL:
                held, dust = D(0), held
        else:
            qty = draw(st.sampled_from([D("0.5"), D("1"), D("2")]))
            fee_asset = draw(st.sampled_from(["USDT", "BTC"]))
            fee = qty * D("0.001") if fee_asset == "BTC" else D("0.2")
            steps.append(("BUY", price, qty, fee, fee_asset))
            held += dust + qty - (fee if fee_asset == "BTC" else 0)
            dust = D(0)
    return steps


@pytest.fixture
def account(db):
    # Function-scoped on purpose: every example shares it inside the test's own
    # transaction (each example trades with a fresh config), and nothing outlives it.
    sync_default_symbols()
    return active_account()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=trades())
def test_positions_in_the_database_equal_the_pure_replay(account, steps):
    config = make_config(account)
    events = []
    for index, (side, price, qty, fee, asset) in enumerate(steps):
        order = order_for(config, side=side, quantity=str(qty),
                          intent="entry" if side == "BUY" else "exit")  # fmt: skip
        fill(order, price=price, quantity=qty, commission=fee, asset=asset,
             time_ms=1_700_000_000_000 + index)  # fmt: skip
        events.append(FillEvent(side, price, qty, "BTC", "USDT", fee, asset, time_ms=index))
    ledger = replay(events, min_notional=MIN_NOTIONAL)
    positions = list(Position.objects.filter(strategy_config=config).order_by("opened_at", "pk"))
    assert len(positions) == len(ledger.closed) + (1 if ledger.open else 0)
    for row, closed in zip(positions, ledger.closed, strict=False):
        assert row.status == "closed"
        assert row.realized_pnl == closed.book.realized_pnl.quantize(STORED)
        assert row.dust_quantity == closed.dust_quantity
    if ledger.open:
        assert positions[-1].quantity == ledger.open.quantity
        assert positions[-1].cost_basis == ledger.open.cost.quantize(STORED)
