"""A trade list kept as the plain loop booked it, made into ``TradeRecord``s when read.

The plain loop books every money amount a round trip changes (cash, fees, the
position's quantity and cost, realized PnL) as it goes. What only a reader of the
trade list needs (the average entry and exit prices, the position's running sums of
bought and sold value and fees, times in ms, the exit reason) follows from the booked
amounts with the same Decimal operations the general loop's ``apply_fill`` and
``_close`` use, so it is worked out when the list is first read: a run whose caller
only wants metrics never builds 2,000 frozen records. ``columns`` gives metrics and
curves what they need without building them either.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from operator import itemgetter

import numpy as np

from .results import TradeRecord

ZERO = Decimal(0)
# A row's entry bar, exit bar and realized PnL (see TradeList).
_ENTRY_BAR, _EXIT_BAR, _PNL = itemgetter(0), itemgetter(1), itemgetter(10)


@dataclass(frozen=True, slots=True)
class TradeColumns:
    """Per-trade values as metrics and curves read them."""

    pnl: list[Decimal]
    r_multiples: list[float]  # trades with an initial risk only
    entry_bar: np.ndarray
    exit_bar: np.ndarray
    entry_ms: np.ndarray
    exit_ms: np.ndarray


def columns_of(trades: Sequence[TradeRecord]) -> TradeColumns:
    """The columns of any trade list (a ``TradeList`` gives them without records)."""
    if isinstance(trades, TradeList):
        return trades.columns()
    return TradeColumns(
        pnl=[t.pnl for t in trades],
        r_multiples=[float(t.r_multiple) for t in trades if t.r_multiple is not None],
        entry_bar=np.array([t.entry_bar for t in trades], dtype=np.int64),
        exit_bar=np.array([t.exit_bar for t in trades], dtype=np.int64),
        entry_ms=np.array([t.entry_ms for t in trades], dtype=np.int64),
        exit_ms=np.array([t.exit_ms for t in trades], dtype=np.int64),
    )


class TradeList(Sequence):
    """Round trips of one plain-loop run, oldest first. Each row is

    ``(entry_bar, exit_bar, bought, buy_value, buy_fee, invested, sell_price, sold,
    sell_value, sell_fee, realized_pnl, dust)``

    as booked: ``bought`` the bought quantity, ``buy_value`` and ``sell_value`` price x
    quantity at the book's precision, the fees in quote, ``sold`` None when everything
    left was dust (no sale). ``book`` is the book's context (60 digits), ``cash`` the
    context the run's cash arithmetic used; ``reasons`` maps the bar of an exit signal
    to its reason, ``default_reason`` the others."""

    def __init__(
        self,
        *,
        symbol: str,
        open_time: np.ndarray,
        rows: list[tuple],
        book: Context,
        cash: Context,
        default_reason: str,
        reasons: dict[int, str],
    ):
        self.symbol = symbol
        self.open_time = open_time
        self.rows = rows
        self.book = book
        self.cash = cash
        self.default_reason = default_reason
        self.reasons = reasons
        self._records: list[TradeRecord] | None = None

    # --- pickling: what a forked sweep sends back ---------------------------------
    # A pickled Decimal costs a reduce call and a string each, and building it back
    # costs more: ~90 ms for a 2,000-trade run, more than the run. The rows travel as one
    # text instead (`str` of a Decimal round-trips exactly) and are parsed back only
    # when read: a sweep's caller that ranks by metrics never parses them.

    def __getstate__(self) -> dict:
        state = {name: getattr(self, name) for name in _PICKLED}
        state["count"] = len(self)
        state["rows"] = self._text if self._rows is None else _rows_text(self._rows)
        return state

    def __setstate__(self, state: dict) -> None:
        for name in _PICKLED:
            setattr(self, name, state[name])
        self._rows, self._text, self._count = None, state["rows"], state["count"]
        self._records = self._columns = None

    @property
    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows, self._text = _parse_rows(self._text), ""
        return self._rows

    @rows.setter
    def rows(self, rows: list[tuple]) -> None:
        self._rows, self._text = rows, ""
        self._columns: TradeColumns | None = None  # the result and the metrics both read them

    def __len__(self) -> int:
        return self._count if self._rows is None else len(self._rows)

    def __getitem__(self, index):
        return self.records()[index]

    def __iter__(self) -> Iterator[TradeRecord]:
        return iter(self.records())

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return self.records() == list(other)
        return NotImplemented

    __hash__ = None  # a list's equality, a list's (lack of) hash

    def __repr__(self) -> str:
        return f"TradeList({len(self)} trades)"

    def columns(self) -> TradeColumns:
        if self._columns is None:
            self._columns = self._make_columns()
        return self._columns

    def _make_columns(self) -> TradeColumns:
        rows = self.rows
        if not rows:
            return columns_of([])
        entry_bar = np.fromiter(map(_ENTRY_BAR, rows), dtype=np.int64, count=len(rows))
        exit_bar = np.fromiter(map(_EXIT_BAR, rows), dtype=np.int64, count=len(rows))
        return TradeColumns(
            pnl=list(map(_PNL, rows)),
            r_multiples=[],  # the plain loop's trades have no stop
            entry_bar=entry_bar,
            exit_bar=exit_bar,
            entry_ms=self.open_time[entry_bar].astype(np.int64),
            exit_ms=self.open_time[exit_bar].astype(np.int64),
        )

    def records(self) -> list[TradeRecord]:
        if self._records is None:
            self._records = [self._record(row) for row in self.rows]
        return self._records

    def _record(self, row: tuple) -> TradeRecord:
        (entry_bar, exit_bar, bought, buy_value, buy_fee, invested) = row[:6]
        (sell_price, sold, sell_value, sell_fee, realized, dust) = row[6:]
        add = self.book.add
        divide = self.cash.divide
        # The book's running sums, as apply_fill adds them from an empty book.
        bought = add(ZERO, bought)
        buy_value = add(ZERO, buy_value)
        fees = add(ZERO, buy_fee)
        if sold is None:
            exit_price = sell_price
        else:
            fees = add(fees, sell_fee)
            exit_price = divide(add(ZERO, sell_value), add(ZERO, sold))
        return TradeRecord(
            symbol=self.symbol,
            entry_bar=entry_bar,
            exit_bar=exit_bar,
            entry_ms=int(self.open_time[entry_bar]),
            exit_ms=int(self.open_time[exit_bar]),
            quantity=bought,
            entry_price=divide(buy_value, bought),
            exit_price=exit_price,
            pnl=realized,
            fees=fees,
            invested=invested,
            initial_risk=None,
            exit_reason=self.reasons.get(exit_bar - 1, self.default_reason),
            dust=dust,
        )


_PICKLED = ("symbol", "open_time", "book", "cash", "default_reason", "reasons")


def _rows_text(rows: list[tuple]) -> str:
    return "\n".join(" ".join(map(_field_text, row)) for row in rows)


def _parse_rows(text: str) -> list[tuple]:
    return [tuple(map(_field_value, line.split(" "))) for line in text.split("\n")] if text else []


def _field_text(value) -> str:
    """A row field as text: bars are ints (`#` marks them), money Decimals, and a
    missing sale None (empty)."""
    if value is None:
        return ""
    if type(value) is int:
        return f"#{value}"
    if type(value) is not Decimal:
        raise TypeError(f"a trade row holds ints, Decimals and None, not {type(value).__name__}")
    return str(value)


def _field_value(text: str):
    if not text:
        return None
    if text[0] == "#":
        return int(text[1:])
    return Decimal(text)
