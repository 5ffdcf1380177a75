"""The event loop for the peers' model, visiting signal bars and fills only.

With no risk config, no signal stop or target and no maximum quantity, a position is
one all-in buy and one sale of everything: the sale leaves less than a step, which is
dust. Then nothing happens between signals, and a round trip needs none of the
general loop's per-bar work (equity tracking, day starts, exit state). This loop
walks the same bars in the same order as ``_Run.execute`` and books the same Decimal
values: the cash side with the runner's own expressions (default context), the
position side as ``apply_fill`` computes it for a quote-asset commission (its
60-digit context, the same operations in the same order), without building a
``FillEvent`` and a ``PositionBook`` per fill. ``tests/backtest/test_plain_loop.py``
checks that both loops give identical results (trades, cash, fees, curves, counts)
on random runs, dust, refusals, slippage and ticks included.
"""

from __future__ import annotations

from decimal import Decimal, getcontext

from apps.trading.accounting.book import PRECISION, PositionBook

from .fills import to_price
from .results import TradeRecord
from .signals import ENTER, EXIT

ZERO = Decimal(0)
ONE = Decimal(1)


def eligible(run) -> bool:
    """Whether ``run`` (a ``_Run``) may use this loop."""
    market = run.market
    return (
        run.s.risk is None
        and run.sig.plain
        and market.max_qty == 0
        and market.base_asset != market.quote_asset
    )


def execute_plain(run) -> None:
    """Run ``run`` (a ``_Run`` with ``eligible(run)``) and leave its state as
    ``_Run.execute`` would for everything ``_Run.result`` reads."""
    sig, fill, market = run.sig, run.fill, run.market
    actionable = run.actionable
    bars = actionable.tolist()
    code_at = dict(zip(bars, sig.actions[actionable].tolist(), strict=True))
    # Orders are decided at a signal bar and fill at the next open: only those opens
    # are read, as Python floats (to_price is quicker on them than on numpy scalars).
    after = actionable[actionable + 1 < run.n] + 1
    open_at = dict(zip(after.tolist(), run.o[after].tolist(), strict=True))
    n = run.n
    open_time = run.open_time
    rate = fill.commission
    buy_divisor_rate = ONE + rate
    symbol = run.s.symbol
    cash, fees = run.cash, run.fees
    dust_qty, dust_cost = run.dust_qty, run.dust_cost
    trades, refused = run.trades, run.refused
    event_bar, event_cash, event_qty = run.event_bar, run.event_cash, run.event_qty
    holding = False
    # The open position's book fields that a TradeRecord reads.
    qty = cost = invested = bought = bought_value = book_fees = ZERO
    entry_bar = 0
    pending = 0  # ENTER: a buy at the next open, EXIT: a sale of everything
    pending_reason = ""
    visited = 0
    k = 0  # next index into bars
    count = len(bars)
    i = bars[0] if count else n
    # The position side in apply_fill's context (the current one at 60 digits), through
    # the context's methods: no context switch per fill.
    book_context = getcontext().copy()
    book_context.prec = PRECISION
    add, sub = book_context.add, book_context.subtract
    mul, div = book_context.multiply, book_context.divide
    while i < n:
        visited += 1
        changed = False
        if pending == ENTER:
            pending = 0
            price = fill.market_buy(to_price(open_at[i]))
            wanted = cash / (price * buy_divisor_rate)
            quantity = market.market_quantity(wanted, price)
            if quantity is None:
                refused.append((i, f"buy of {wanted} at {price} below the symbol's minimums"))
            else:
                gross = price * quantity
                fee = gross * rate
                cash -= gross + fee
                fees += fee
                fee_q = fee if fee else ZERO  # FillEvent.fee_in_quote
                gross = mul(price, quantity)
                qty = add(dust_qty, sub(quantity, ZERO))
                cost = add(add(dust_cost, gross), fee_q)
                invested = cost  # book.invested + gross + fee, with invested = carried cost
                bought = add(ZERO, quantity)
                bought_value = add(ZERO, gross)
                book_fees = add(ZERO, fee_q)
                dust_qty = dust_cost = ZERO
                holding, entry_bar, changed = True, i, True
        elif pending == EXIT:
            pending = 0
            price = fill.market_sell(to_price(open_at[i]))
            sell = market.market_quantity(qty, price)
            sold = sold_value = realized = ZERO
            if sell is not None:
                gross = price * sell
                fee = gross * rate
                cash += gross - fee
                fees += fee
                fee_q = fee if fee else ZERO
                gross = mul(price, sell)
                leaving = add(sell, ZERO)
                released = cost if leaving == qty else div(mul(cost, leaving), qty)
                gain = sub(sub(gross, fee_q), released)
                qty = sub(qty, leaving)
                cost = sub(cost, released)
                realized = add(ZERO, gain)
                sold = add(ZERO, sell)
                sold_value = add(ZERO, gross)
                book_fees = add(book_fees, fee_q)
            # Everything sold but less than a step, or all of it below the minimums:
            # what is left is dust and the position is closed (``_Run._close``).
            trades.append(
                TradeRecord(
                    symbol=symbol,
                    entry_bar=entry_bar,
                    exit_bar=i,
                    entry_ms=int(open_time[entry_bar]),
                    exit_ms=int(open_time[i]),
                    quantity=bought,
                    entry_price=bought_value / bought if bought else price,
                    exit_price=sold_value / sold if sold else price,
                    pnl=realized,
                    fees=book_fees,
                    invested=invested,
                    initial_risk=None,
                    exit_reason=pending_reason,
                    dust=qty,
                )
            )
            dust_qty, dust_cost = qty, cost
            holding, changed = False, True
        action = code_at.get(i, 0)
        if action == EXIT and holding:
            pending, pending_reason = EXIT, sig.reason(i)
        elif action == ENTER and not holding and not pending:
            pending = ENTER
        if changed:
            event_bar.append(i)
            event_cash.append(float(cash))
            event_qty.append(float(qty if holding else dust_qty))
        run.last_visited = i
        if pending:
            i += 1
        else:
            while k < count and bars[k] <= i:
                k += 1
            i = bars[k] if k < count else n
    run.cash, run.fees, run.visited = cash, fees, visited
    run.dust_qty, run.dust_cost = dust_qty, dust_cost
    run.entry_bar = entry_bar
    if holding:
        # The open position as ``_Run.result`` reads it (quantity held, entry bar).
        run.book = PositionBook(
            quantity=qty,
            cost=cost,
            fees=book_fees,
            bought=bought,
            bought_value=bought_value,
            invested=invested,
        )
        run.dust_qty = run.dust_cost = ZERO
