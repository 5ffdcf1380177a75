"""The portfolio fast path: which times a run must visit, and what the others change.

A sleeve (one symbol's ``runner._Run``) can act only at its own bars, and only when
an order is pending (it fills at the bar's open), a held position's exits are managed
on every bar, a resting stop or target is touched during the bar, or its signal can
act (ENTER while flat, EXIT while holding). At any other time nothing is filled or
decided, so the cash and every holding stay as they are; what still moves is the
account's mark-to-market equity, which the risk engine reads through the equity peak
(drawdown breaker) and the day-start equity (daily loss limit). Those follow from the
unchanged holdings and the closes of the skipped times, computed here without
visiting them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from decimal import Decimal

import numpy as np

# Float and Decimal equity differ by a few units of the 16th digit (every term is
# positive); any time within this relative margin of the float maximum is checked
# in Decimal, so the float curve never decides the peak alone.
_MARGIN = 1e-9


def next_bar_needed(run, after: int, enters: list[int], exits: list[int]) -> int:
    """The first of ``run``'s bars after bar ``after`` where it can act (``run.n``
    when none is left). ``enters`` and ``exits``: its ENTER and EXIT bars, ascending
    (lists: ``bisect`` on a list costs a fifth of a ``searchsorted`` call)."""
    if run.pending or (run.book is not None and run.every_bar_in_position):
        return after + 1
    if run.book is None:
        return _first_after(enters, after, run.n)
    following = _first_after(exits, after, run.n)
    if run.fill.intrabar and (run.stop is not None or run.target is not None):
        following = run._next_touch(after + 1, following)
    return following


def _first_after(bars: list[int], after: int, end: int) -> int:
    k = bisect_right(bars, after)
    return bars[k] if k < len(bars) else end


def peak_over_span(
    peak: Decimal,
    cash: Decimal,
    holdings: Sequence[tuple[Decimal, np.ndarray]],
    equity_at: Callable[[int], Decimal],
    start: int,
    end: int,
) -> Decimal:
    """The equity peak after the times ``start`` to ``end - 1`` as visiting each would
    leave it (``peak = max(peak, equity)``, so the earliest of equal maxima stays).
    ``holdings``: (quantity, mark at every time) of each symbol held over the span;
    ``equity_at(t)``: the account's Decimal equity at time ``t``."""
    if not holdings or start >= end:
        return peak  # cash alone: the last visited time's equity, already in the peak
    curve = np.full(end - start, float(cash))
    scale = abs(float(cash))
    for quantity, marks in holdings:
        held = float(quantity) * marks[start:end]
        curve += held
        scale += float(held.max())
    top = float(curve.max())
    margin = _MARGIN * scale
    if top + margin < float(peak) * (1 - _MARGIN):
        return peak
    for t in (np.flatnonzero(curve >= top - margin) + start).tolist():
        peak = max(peak, equity_at(t))
    return peak
