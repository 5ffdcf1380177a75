"""The trade statistics a portfolio's risk engine reads, across all its symbols.

``trade_stats`` reads every closed trade of the account, and a portfolio asks for it
at every entry decision: sorting all of them each time made long runs quadratic in
their trades. Here the closed trades are kept in order as they close, and the stats
are computed again only when a trade has closed or the day's entries changed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from apps.risk.engine.state import TradeStats
from apps.trading.accounting.stats import ClosedResult, trade_stats


class AccountTradeStats:
    def __init__(self, closed_lists: Sequence[list[ClosedResult]]):
        """``closed_lists``: each symbol's own list of closed trades, which only grows
        (so its length names its content)."""
        self._lists = closed_lists
        self._taken = [0] * len(closed_lists)
        self._merged: list[ClosedResult] = []
        self._merged_order: list[tuple[int, int, int]] = []
        self._key: tuple[int, int] | None = None
        self._stats: TradeStats | None = None

    def stats(self, entries_today: int) -> TradeStats:
        """``trade_stats`` of every closed trade in ``in_order()``'s order."""
        key = (sum(len(closed) for closed in self._lists), entries_today)
        if key != self._key:
            self._stats = trade_stats(self.in_order(), entries_today=entries_today)
            self._key = key
        return self._stats

    def in_order(self) -> list[ClosedResult]:
        """Every closed trade by close time; ties in symbol order, then in each
        symbol's own order: the stable sort of the lists' concatenation, kept by
        inserting each new trade where it belongs."""
        for x, closed in enumerate(self._lists):
            for j in range(self._taken[x], len(closed)):
                order = (closed[j].closed_ms, x, j)
                at = bisect_right(self._merged_order, order)
                self._merged_order.insert(at, order)
                self._merged.insert(at, closed[j])
            self._taken[x] = len(closed)
        return self._merged
