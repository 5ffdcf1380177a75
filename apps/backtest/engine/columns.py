"""A candle series' columns for a backtest, each copied when first read.

The engine reads candles column by column (contiguous float arrays for TA-Lib and
numpy). A structured candle array stores them interleaved, so every column is a
copy, and a fresh 100,000-bar column costs far more in new memory than in copying.
A run that decides on closes and fills at a few opens needs two columns, not seven:
``CandleColumns`` copies each column the first time it is read and keeps it, and
serves single values and the first few windows straight from the candle array. Whatever
path reads them, the values are the candles' own.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from apps.strategies.engine.context import MarketContext

_COLUMNS = ("open_time", "open", "high", "low", "close", "volume")


class CandleColumns:
    """Duck-types ``MarketContext``'s columns (``open_time`` ... ``volume``) and adds
    ``close_time``, ``pick`` and ``window``."""

    # Windows cut from the candle array before the columns are copied for good: a few
    # evaluated bars (exact signals) need no column; thousands (a strategy evaluated on
    # every candidate bar) are cheaper as views of copied columns.
    WINDOWS_BEFORE_COPY = 64

    def __init__(self, candles: np.ndarray, symbol: str, interval: str):
        self.candles = candles
        self.symbol = symbol
        self.interval = interval
        self._windows = 0

    @classmethod
    def of(cls, context, candles: np.ndarray, symbol: str, interval: str) -> CandleColumns:
        """``context`` as columns: itself, the columns of a ``MarketContext`` (no
        copy), or new columns of ``candles`` when it is None."""
        if isinstance(context, CandleColumns):
            return context
        columns = cls(candles, symbol, interval)
        if context is not None:
            for name in _COLUMNS:
                columns.__dict__[name] = getattr(context, name)
        return columns

    def __len__(self) -> int:
        return len(self.candles)

    def _copy(self, name: str) -> np.ndarray:
        column = np.ascontiguousarray(self.candles[name])
        column.flags.writeable = False
        return column

    @cached_property
    def open_time(self) -> np.ndarray:
        return self._copy("open_time")

    @cached_property
    def open(self) -> np.ndarray:
        return self._copy("open")

    @cached_property
    def high(self) -> np.ndarray:
        return self._copy("high")

    @cached_property
    def low(self) -> np.ndarray:
        return self._copy("low")

    @cached_property
    def close(self) -> np.ndarray:
        return self._copy("close")

    @cached_property
    def volume(self) -> np.ndarray:
        return self._copy("volume")

    @cached_property
    def close_time(self) -> np.ndarray:
        return self._copy("close_time")

    @cached_property
    def context(self) -> MarketContext:
        """Every column as a ``MarketContext`` (what a strategy's own code receives)."""
        return MarketContext(
            self.symbol, self.interval, *(getattr(self, name) for name in _COLUMNS)
        )

    def pick(self, name: str, index: np.ndarray) -> np.ndarray:
        """``column[index]`` without copying a column that was not read yet."""
        column = self.__dict__.get(name)
        return (self.candles[name] if column is None else column)[index]

    def window(self, start: int, stop: int) -> MarketContext:
        """The candles ``[start, stop)`` as a ``MarketContext``: views of the columns
        (copied now if many windows were asked for), or a copy of just those candles."""
        self._windows += 1
        if self._windows > self.WINDOWS_BEFORE_COPY or all(
            name in self.__dict__ for name in _COLUMNS
        ):
            return MarketContext(
                self.symbol,
                self.interval,
                *(getattr(self, name)[start:stop] for name in _COLUMNS),
            )
        return MarketContext.from_array(self.symbol, self.interval, self.candles[start:stop])
