"""Liquidity read from an order book: best prices, spread, depth near the mid, and what
a market order of a given quote amount would pay by walking the levels.

Pure and Decimal throughout. It sits in the risk engine because the liquidity limits
read it; the streams process uses it too to summarise the books it keeps (every layer
may use the pure engines).

Basis points (bps) are ten-thousandths: a spread of 2 bps is 0.02 % of the mid.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple

ZERO = Decimal(0)
TWO = Decimal(2)
BPS = Decimal(10_000)

BUY, SELL = "BUY", "SELL"
REFERENCES = ("mid", "best")

Level = tuple[Decimal, Decimal]  # (price, quantity)


def _levels(side: Mapping[Decimal, Decimal] | Iterable[Level]) -> Iterable[Level]:
    return side.items() if isinstance(side, Mapping) else side


class BookView(NamedTuple):
    """One side per tuple, best level first; quantities in the base asset, prices in
    the quote asset. ``time_ms`` is the exchange time of the book's last update."""

    symbol: str
    bids: tuple[Level, ...] = ()  # highest price first
    asks: tuple[Level, ...] = ()  # lowest price first
    time_ms: int = 0

    @classmethod
    def from_sides(
        cls,
        symbol: str,
        bids: Mapping[Decimal, Decimal] | Iterable[Level],
        asks: Mapping[Decimal, Decimal] | Iterable[Level],
        *,
        time_ms: int = 0,
        levels: int | None = None,
    ) -> BookView:
        """Sort each side best first, drop empty levels, keep the best ``levels``
        (all when None): a local book's dicts become a view without copying them whole."""
        bid_levels = ((p, q) for p, q in _levels(bids) if q > 0)
        ask_levels = ((p, q) for p, q in _levels(asks) if q > 0)
        if levels is None:
            best_bids = sorted(bid_levels, key=lambda level: level[0], reverse=True)
            best_asks = sorted(ask_levels, key=lambda level: level[0])
        else:
            best_bids = heapq.nlargest(levels, bid_levels, key=lambda level: level[0])
            best_asks = heapq.nsmallest(levels, ask_levels, key=lambda level: level[0])
        return cls(symbol, tuple(best_bids), tuple(best_asks), int(time_ms))

    @property
    def empty(self) -> bool:
        """No price on one side or the other: nothing to measure."""
        return not self.bids or not self.asks

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if self.empty:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / TWO

    @property
    def spread_bps(self) -> Decimal | None:
        """(ask - bid) / mid in bps; negative only for a crossed book."""
        mid = self.mid
        if mid is None or mid <= 0:
            return None
        return (self.asks[0][0] - self.bids[0][0]) / mid * BPS


class Depth(NamedTuple):
    """Quote amounts resting within a distance of the mid on each side."""

    bps: Decimal
    bid_quote: Decimal
    ask_quote: Decimal


def depth_within(book: BookView, bps: Decimal) -> Depth | None:
    """The quote value of the bids priced at or above ``mid * (1 - bps)`` and of the asks
    at or below ``mid * (1 + bps)``; None for an empty book. Only the levels the view
    holds count, so a view truncated to a few levels can understate wide bands."""
    mid = book.mid
    if mid is None:
        return None
    floor = mid * (1 - bps / BPS)
    ceiling = mid * (1 + bps / BPS)
    bid_quote = sum((p * q for p, q in book.bids if p >= floor), ZERO)
    ask_quote = sum((p * q for p, q in book.asks if p <= ceiling), ZERO)
    return Depth(bps, bid_quote, ask_quote)


class Fill(NamedTuple):
    """The estimated outcome of a market order for ``quote`` of the quote asset.

    ``complete`` is False when the book cannot absorb the whole amount ("not enough
    depth"): ``quantity`` and ``average_price`` then describe what it could fill and
    ``unfilled_quote`` what is left. ``slippage_bps`` is how much worse the average
    price is than the reference (mid or best price), positive when worse.
    """

    side: str
    quote: Decimal
    quantity: Decimal
    average_price: Decimal | None
    slippage_bps: Decimal | None
    levels_used: int
    complete: bool
    unfilled_quote: Decimal


def market_fill(book: BookView, side: str, quote: Decimal, *, reference: str = "mid") -> Fill:
    """Walk the opposite side of the book (asks for a BUY, bids for a SELL), level by
    level, until ``quote`` of the quote asset is spent (BUY) or received (SELL)."""
    if side not in (BUY, SELL):
        raise ValueError(f"side must be {BUY} or {SELL}, not {side!r}")
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {', '.join(REFERENCES)}, not {reference!r}")
    if type(quote) is not Decimal or not quote.is_finite() or quote <= 0:
        raise ValueError("quote must be a positive Decimal")
    levels = book.asks if side == BUY else book.bids
    remaining, quantity, used = quote, ZERO, 0
    for price, available in levels:
        if remaining <= 0:
            break
        used += 1
        level_quote = price * available
        if level_quote >= remaining:
            quantity += remaining / price
            remaining = ZERO
            break
        quantity += available
        remaining -= level_quote
    filled_quote = quote - remaining
    if quantity <= 0:
        return Fill(side, quote, ZERO, None, None, 0, False, quote)
    average = filled_quote / quantity
    return Fill(
        side,
        quote,
        quantity,
        average,
        _slippage_bps(book, side, average, reference),
        used,
        remaining <= 0,
        remaining,
    )


def _slippage_bps(book: BookView, side: str, average: Decimal, reference: str) -> Decimal | None:
    best = book.best_ask if side == BUY else book.best_bid
    ref = book.mid if reference == "mid" else best
    if ref is None or ref <= 0:
        return None
    worse = average - ref if side == BUY else ref - average
    return worse / ref * BPS
