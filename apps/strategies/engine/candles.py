"""Candle records and the ring-buffered, lazily loaded window strategies read from.

Candles are floats on purpose: they only feed indicator maths. Prices that leave the
engine towards the risk engine or orders are converted to Decimal explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import ParameterError


@dataclass(frozen=True, slots=True)
class Candle:
    """One closed kline. Times are Binance integer milliseconds (UTC)."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    close_time: int

    @classmethod
    def from_kline(cls, row: Sequence) -> Candle:
        """Build from Binance's 12-column kline layout (strings or numbers)."""
        return cls(
            open_time=int(row[0]),
            open=float(row[1]),
            high=float(row[2]),
            low=float(row[3]),
            close=float(row[4]),
            volume=float(row[5]),
            close_time=int(row[6]),
        )


# A structured dtype lets a whole window travel as one contiguous block.
CANDLE_DTYPE = np.dtype(
    [
        ("open_time", "i8"),
        ("open", "f8"),
        ("high", "f8"),
        ("low", "f8"),
        ("close", "f8"),
        ("volume", "f8"),
        ("close_time", "i8"),
    ]
)

_FIELDS = CANDLE_DTYPE.names


class CandleWindow:
    """A fixed-capacity ring buffer of the most recent candles.

    Each column is stored twice (at ``i`` and ``i + capacity``) so that the newest
    ``n`` values are always one contiguous numpy slice: reading a window costs no copy
    and appending costs O(1), however long the feed runs.
    """

    __slots__ = ("_capacity", "_columns", "_count", "_head")

    def __init__(self, capacity: int) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ParameterError("capacity", "must be an integer of at least 1")
        self._capacity = capacity
        self._columns = {name: np.zeros(2 * capacity, dtype=CANDLE_DTYPE[name]) for name in _FIELDS}
        self._head = 0  # next write slot in [0, capacity)
        self._count = 0

    @classmethod
    def from_candles(cls, candles: Iterable[Candle], capacity: int) -> CandleWindow:
        window = cls(capacity)
        for candle in candles:
            window.append(candle)
        return window

    @classmethod
    def from_array(cls, rows: np.ndarray, capacity: int | None = None) -> CandleWindow:
        """Load a structured array (``CANDLE_DTYPE``) keeping its newest rows."""
        capacity = capacity or max(len(rows), 1)
        window = cls(capacity)
        tail = rows[-capacity:]
        n = len(tail)
        for name in _FIELDS:
            column = window._columns[name]
            column[:n] = tail[name]
            column[capacity : capacity + n] = tail[name]
        window._count = n
        window._head = n % capacity
        return window

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return self._count

    def append(self, candle: Candle) -> None:
        if self._count and candle.open_time <= self.column("open_time")[-1]:
            raise ParameterError("candle.open_time", "must increase from one candle to the next")
        head, cap = self._head, self._capacity
        for name in _FIELDS:
            value = getattr(candle, name)
            column = self._columns[name]
            column[head] = value
            column[head + cap] = value
        self._head = (head + 1) % cap
        if self._count < cap:
            self._count += 1

    def column(self, name: str, last: int | None = None) -> np.ndarray:
        """The newest ``last`` values (default: all held) of one column, oldest first.

        The result is a read-only view; it stays valid until the next append.
        """
        n = self._count if last is None else min(last, self._count)
        if self._count < self._capacity:
            view = self._columns[name][self._count - n : self._count]
        else:
            end = self._head + self._capacity
            view = self._columns[name][end - n : end]
        view = view.view()
        view.flags.writeable = False
        return view

    def last(self) -> Candle:
        if not self._count:
            raise IndexError("empty candle window")
        return Candle(*(self.column(name, 1)[0].item() for name in _FIELDS))


class LazyCandleWindow:
    """Defers loading history until a strategy first needs it (seed item 35).

    ``loader(capacity)`` returns a structured array of candles, oldest first. Candles
    appended before the first read are kept and applied after the load.
    """

    __slots__ = ("_capacity", "_loader", "_pending", "_window")

    def __init__(self, loader: Callable[[int], np.ndarray], capacity: int) -> None:
        self._loader = loader
        self._capacity = capacity
        self._window: CandleWindow | None = None
        self._pending: list[Candle] = []

    @property
    def loaded(self) -> bool:
        return self._window is not None

    def append(self, candle: Candle) -> None:
        if self._window is None:
            self._pending.append(candle)
        else:
            self._window.append(candle)

    @property
    def window(self) -> CandleWindow:
        if self._window is None:
            window = CandleWindow.from_array(self._loader(self._capacity), self._capacity)
            last_time = window.column("open_time", 1)[0] if len(window) else None
            for candle in self._pending:
                if last_time is None or candle.open_time > last_time:
                    window.append(candle)
            self._pending.clear()
            self._window = window
        return self._window


def candles_to_array(candles: Iterable[Candle]) -> np.ndarray:
    """Pack candles into one structured array (``CANDLE_DTYPE``)."""
    rows = [(c.open_time, c.open, c.high, c.low, c.close, c.volume, c.close_time) for c in candles]
    return np.array(rows, dtype=CANDLE_DTYPE)


def klines_to_array(rows: Iterable[Sequence]) -> np.ndarray:
    """Pack Binance 12-column klines into a structured array."""
    packed = [
        (int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5]), int(r[6]))
        for r in rows
    ]
    return np.array(packed, dtype=CANDLE_DTYPE)
