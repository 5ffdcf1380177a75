"""Attribution: the fills of one (account, strategy config, symbol), replayed in order,
give its round trips; dust left by one round trip opens the next."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from .book import BUY, ZERO, FillEvent, OversellError, PositionBook, apply_fill


@dataclass(frozen=True, slots=True)
class ClosedBook:
    book: PositionBook  # as it stood when closed (quantity 0)
    dust_quantity: Decimal
    dust_cost: Decimal


@dataclass(frozen=True, slots=True)
class Ledger:
    closed: tuple[ClosedBook, ...] = ()
    open: PositionBook | None = None

    @property
    def dust(self) -> tuple[Decimal, Decimal]:
        """Dust waiting for the next position (quantity, cost)."""
        if self.open is not None or not self.closed:
            return ZERO, ZERO
        last = self.closed[-1]
        return last.dust_quantity, last.dust_cost

    @property
    def held(self) -> Decimal:
        """Base attributed to this key: the open position plus any waiting dust."""
        return (self.open.quantity if self.open else ZERO) + self.dust[0]

    @property
    def realized_pnl(self) -> Decimal:
        total = sum((c.book.realized_pnl for c in self.closed), ZERO)
        return total + (self.open.realized_pnl if self.open else ZERO)


def close_if_done(book: PositionBook, *, price: Decimal, min_notional: Decimal):
    """(dust quantity, dust cost) if the book is finished, else None. A remainder worth
    less than the minimum notional can be neither protected nor sold: it is dust."""
    if book.quantity == 0:
        return ZERO, ZERO
    if book.quantity * price < min_notional:
        return book.quantity, book.cost
    return None


def step(ledger: Ledger, fill: FillEvent, *, min_notional: Decimal = ZERO) -> Ledger:
    book = ledger.open
    if book is None:
        if fill.side != BUY:
            raise OversellError("side", "a sell with no open position")
        carried_quantity, carried_cost = ledger.dust
        book = PositionBook.opening(carried_quantity=carried_quantity, carried_cost=carried_cost)
    book = apply_fill(book, fill)
    if fill.side == BUY:
        return replace(ledger, open=book)
    done = close_if_done(book, price=fill.price, min_notional=min_notional)
    if done is None:
        return replace(ledger, open=book)
    dust_quantity, dust_cost = done
    finished = replace(book, quantity=ZERO, cost=ZERO)
    return Ledger(closed=(*ledger.closed, ClosedBook(finished, dust_quantity, dust_cost)))


def replay(fills: Iterable[FillEvent], *, min_notional: Decimal = ZERO) -> Ledger:
    """Fills of one key in execution order (time, then trade id)."""
    ledger = Ledger()
    for fill in sorted(fills, key=lambda f: (f.time_ms, f.trade_id)):
        ledger = step(ledger, fill, min_notional=min_notional)
    return ledger


def attribute(
    fills: Iterable[tuple[Hashable, FillEvent]],
    *,
    min_notional: Mapping[str, Decimal] | None = None,
) -> dict[Hashable, Ledger]:
    """Group (key, fill) pairs by key, e.g. (account, config, symbol), and replay each.
    `min_notional` maps symbol -> minimum notional, looked up from the key's last item."""
    grouped: dict[Hashable, list[FillEvent]] = {}
    for key, fill in fills:
        grouped.setdefault(key, []).append(fill)
    minimums = min_notional or {}
    return {
        key: replay(items, min_notional=minimums.get(_symbol_of(key), ZERO))
        for key, items in grouped.items()
    }


def _symbol_of(key) -> str:
    return key[-1] if isinstance(key, tuple) and key else str(key)
