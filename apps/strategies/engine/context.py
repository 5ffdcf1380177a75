"""The market data a strategy may look at: one symbol, one interval, closed candles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .candles import CandleWindow


@dataclass(frozen=True, slots=True)
class MarketContext:
    """Closed candles, oldest first; the last one is the candle being evaluated.

    Arrays are read-only views. Nothing here can see the future: the context ends at
    the evaluated candle by construction.
    """

    symbol: str
    interval: str
    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return self.close.shape[0]

    @property
    def candle_time(self) -> int | None:
        return int(self.open_time[-1]) if len(self) else None

    def tail(self, n: int) -> MarketContext:
        """The newest ``n`` candles (all of them if fewer)."""
        if n >= len(self):
            return self
        return MarketContext(
            self.symbol,
            self.interval,
            self.open_time[-n:],
            self.open[-n:],
            self.high[-n:],
            self.low[-n:],
            self.close[-n:],
            self.volume[-n:],
        )

    @classmethod
    def from_window(cls, symbol: str, interval: str, window: CandleWindow) -> MarketContext:
        return cls(
            symbol,
            interval,
            window.column("open_time"),
            window.column("open"),
            window.column("high"),
            window.column("low"),
            window.column("close"),
            window.column("volume"),
        )

    @classmethod
    def from_array(cls, symbol: str, interval: str, rows: np.ndarray) -> MarketContext:
        """From a structured candle array (``candles.CANDLE_DTYPE``)."""

        def col(name: str) -> np.ndarray:
            view = np.ascontiguousarray(rows[name])
            view.flags.writeable = False
            return view

        return cls(
            symbol,
            interval,
            col("open_time"),
            col("open"),
            col("high"),
            col("low"),
            col("close"),
            col("volume"),
        )
