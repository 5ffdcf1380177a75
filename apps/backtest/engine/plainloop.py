"""The event loop for the peers' model, visiting signal bars and fills only.

With no risk config, no signal stop or target and no maximum quantity, a position is
one all-in buy and one sale of everything: the sale leaves less than a step, which is
dust. Then nothing happens between signals, and a round trip needs none of the
general loop's per-bar work (equity tracking, day starts, exit state). An order
decided at a signal bar fills at the next bar's open, before anything that bar
decides, so this loop walks the signal bars in order and books each acted signal's
fill at once: the same fills in the same order as ``_Run.execute``.

Every amount is the Decimal the general loop computes, by the same operations in the
same order: the cash side with the runner's own expressions (the caller's context),
the position side as ``apply_fill`` computes it for a quote-asset commission (its
60-digit context), without a ``FillEvent`` and a ``PositionBook`` per fill. What only
a reader of the trade list needs is left to ``TradeList`` (same operations, done when
read). ``tests/backtest/test_fast_paths.py`` checks that both loops give identical
results (trades, cash, fees, curves, counts) on random runs, dust, refusals,
slippage and ticks included.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, InvalidOperation, getcontext

import numpy as np

from apps.trading.accounting.book import PRECISION, PositionBook

from .signals import ENTER, EXIT
from .tradelist import TradeList

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
    n = run.n
    actionable = run.actionable
    bars = actionable.tolist()
    codes = sig.actions[actionable].tolist()
    # The open each signal's order would fill at (None: the series ends first), as
    # ``to_price`` makes it (Decimal(repr(x)) of a Python float), converted in one go.
    fillable = actionable[actionable + 1 < n]
    opens = list(map(Decimal, map(repr, run.columns.pick("open", fillable + 1).tolist())))
    opens += [None] * (len(bars) - fillable.size)

    rate = fill.commission
    buy_rate = ONE + rate
    slip_up, slip_down = ONE + fill.slippage, ONE - fill.slippage
    # Multiplying a printed price (at most 17 digits) by exactly 1 (exponent 0) gives
    # the same Decimal, digits and exponent: skip it (``Decimal("0.00")`` slippage
    # still multiplies, as its 1.00 changes the exponent).
    no_slippage = _is_exact_one(slip_up) and _is_exact_one(slip_down)
    tick = fill.tick_size if fill.tick_size > 0 else None
    step, min_qty, min_notional = market.step, market.min_qty, market.min_notional
    check_notional = min_notional > 0
    cash, fees = run.cash, run.fees
    dust_qty, dust_cost = run.dust_qty, run.dust_cost
    refused = run.refused
    # The position side in apply_fill's context (the caller's, at 60 digits), through
    # the context's methods: no context switch per fill.
    cash_context = getcontext().copy()
    book_context = cash_context.copy()
    book_context.prec = PRECISION
    add, sub = book_context.add, book_context.subtract
    mul, div = book_context.multiply, book_context.divide
    # Shortcuts for a step that is a power of ten (see _grid_shortcuts).
    floor_to_step, grid_bound = _grid_shortcuts(step, cash_context)

    rows: list[tuple] = []  # one per round trip, as TradeList reads them
    fill_bars: list[int] = []  # every bar an order filled (or was refused) at
    event_bar: list[int] = []
    event_cash: list[Decimal] = []
    event_qty: list[Decimal] = []
    holding = False
    qty = cost = ZERO  # the open position's quantity and cost
    # The open position's entry as the trade list needs it (locals, not a tuple: fewer
    # objects for the garbage collector to count).
    entry_bar = -1
    bought = buy_value = buy_fee = invested = ZERO
    for bar, code, open_price in zip(bars, codes, opens, strict=True):
        if holding:
            if code != EXIT:
                continue
        elif code != ENTER:
            continue
        if open_price is None:  # decided at the last close: never fills
            break
        i = bar + 1
        fill_bars.append(i)
        if not holding:
            price = open_price if no_slippage else open_price * slip_up  # FillModel.market_buy
            if tick is not None:
                price = (price / tick).to_integral_value(ROUND_CEILING) * tick
            wanted = cash / (price * buy_rate)
            # market_quantity's floor to the step, by one quantize where that is the
            # same Decimal: when it dropped digits (see _grid_shortcuts).
            if floor_to_step is None:
                quantity = wanted
            else:
                try:
                    quantity = floor_to_step(wanted, step)
                except InvalidOperation:  # more digits than the context holds
                    quantity = wanted
            if quantity == wanted:
                quantity = (wanted / step).to_integral_value(ROUND_FLOOR) * step
                received = None
            else:
                received = quantity  # positive, exponent <= 0: minus zero changes nothing
            if (
                quantity <= ZERO
                or quantity < min_qty
                or (check_notional and quantity * price < min_notional)
            ):
                refused.append((i, f"buy of {wanted} at {price} below the symbol's minimums"))
                continue
            gross = price * quantity
            fee = gross * rate
            cash -= gross + fee
            fees += fee
            fee_q = fee if fee else ZERO  # FillEvent.fee_in_quote
            gross = mul(price, quantity)
            if received is None:
                received = sub(quantity, ZERO)
            qty = add(dust_qty, received)
            cost = add(add(dust_cost, gross), fee_q)
            entry_bar = i
            bought = quantity
            buy_value = gross
            buy_fee = fee_q
            invested = cost
            dust_qty = dust_cost = ZERO
            holding = True
        else:
            price = open_price if no_slippage else open_price * slip_down  # market_sell
            if tick is not None:
                price = (price / tick).to_integral_value(ROUND_FLOOR) * tick
            if qty < grid_bound and qty.same_quantum(step):
                # On the grid of a power-of-ten step and within the context's digits,
                # the floor to the step is qty itself (an exact division by the step).
                sell = leaving = qty  # and sell + 0 is sell (exponent <= 0)
            else:
                sell = (qty / step).to_integral_value(ROUND_FLOOR) * step
                leaving = None
            if sell <= ZERO or sell < min_qty or (check_notional and sell * price < min_notional):
                # All of it is too little to sell: it is dust, the position closes.
                rows.append(
                    (
                        entry_bar,
                        i,
                        bought,
                        buy_value,
                        buy_fee,
                        invested,
                        price,
                        None,
                        None,
                        None,
                        ZERO,
                        qty,
                    )
                )
            else:
                gross = price * sell
                fee = gross * rate
                cash += gross - fee
                fees += fee
                fee_q = fee if fee else ZERO
                gross = mul(price, sell)
                if leaving is None:
                    leaving = add(sell, ZERO)
                released = cost if leaving == qty else div(mul(cost, leaving), qty)
                gain = sub(sub(gross, fee_q), released)
                qty = sub(qty, leaving)
                cost = sub(cost, released)
                rows.append(
                    (
                        entry_bar,
                        i,
                        bought,
                        buy_value,
                        buy_fee,
                        invested,
                        price,
                        sell,
                        gross,
                        fee_q,
                        add(ZERO, gain),
                        qty,
                    )
                )
            dust_qty, dust_cost = qty, cost
            holding = False
        event_bar.append(i)
        event_cash.append(cash)
        event_qty.append(qty)

    run.trades = TradeList(
        symbol=run.s.symbol,
        open_time=run.open_time,
        rows=rows,
        book=book_context,
        cash=cash_context,
        **_exit_reasons(sig),
    )
    run.cash, run.fees = cash, fees
    run.dust_qty, run.dust_cost = dust_qty, dust_cost
    run.event_bar = event_bar
    run.event_cash = list(map(float, event_cash))
    run.event_qty = [float(q) if q else 0.0 for q in event_qty]  # mostly no dust
    run.visited, run.last_visited = _visits(actionable, fill_bars, run.last_visited)
    if holding:
        # The open position as ``_Run.result`` reads it (quantity held, entry bar), its
        # sums as apply_fill leaves them after one buy.
        run.entry_bar = entry_bar
        run.book = PositionBook(
            quantity=qty,
            cost=cost,
            fees=add(ZERO, buy_fee),
            bought=add(ZERO, bought),
            bought_value=add(ZERO, buy_value),
            invested=invested,
        )
        run.dust_qty = run.dust_cost = ZERO
    elif entry_bar >= 0:
        run.entry_bar = entry_bar


def _is_exact_one(value: Decimal) -> bool:
    return value.as_tuple() == (0, (1,), 0)


def _grid_shortcuts(step: Decimal, context: Context) -> tuple:
    """(a quantize that floors a buy to the step, or None; the bound below which a
    quantity with the step's exponent is its own floor, zero for none), for a step
    10**k with k <= 0 and ``context`` the run's cash context.

    Dividing by 10**k only moves the exponent, exactly, so ``floor(w / step) * step``
    is ``w`` itself when w's exponent is at least k, and otherwise w's digits cut at
    exponent k: what a ROUND_FLOOR quantize to the step gives. A quantize that dropped
    digits (a result unequal to w) had w's exponent below k; an equal one may not, so
    the loop then uses the general expression. The quantize runs in a context of its
    own (same digits and exponent range, raising on an invalid result), so the run's
    context gets no flag the general expression would not set. A quantity with
    exponent k under ``10**(prec + k)`` has at most ``prec`` digits, so its division
    by the step is exact too."""
    sign, digits, exponent = step.as_tuple()
    if not (sign == 0 and digits == (1,) and isinstance(exponent, int) and exponent <= 0):
        return None, ZERO
    if context.clamp:  # exponents may be changed near the top of the range
        return None, ZERO
    floor = Context(
        prec=context.prec,
        rounding=ROUND_FLOOR,
        Emin=context.Emin,
        Emax=context.Emax,
        traps=[InvalidOperation],
    )
    return floor.quantize, ONE.scaleb(context.prec + exponent)


def _visits(actionable: np.ndarray, fill_bars: list[int], last: int) -> tuple[int, int]:
    """(bars visited, the last of them) as the general loop counts them: every signal
    bar and every bar an order filled at, once each."""
    if not fill_bars:
        return actionable.size, int(actionable[-1]) if actionable.size else last
    fills = np.asarray(fill_bars, dtype=actionable.dtype)
    at = np.minimum(np.searchsorted(actionable, fills), actionable.size - 1)
    also_signals = np.count_nonzero(actionable[at] == fills)
    return actionable.size + fills.size - also_signals, max(int(actionable[-1]), fill_bars[-1])


def _exit_reasons(sig) -> dict:
    """Exit reasons as a default and the bars that differ from it (evaluated ones)."""
    known = sig.signals.evaluated if hasattr(sig.signals, "evaluated") else sig.signals
    return {
        "default_reason": sig.reasons.get(EXIT, ""),
        "reasons": {i: s.reason for i, s in known.items()},
    }
