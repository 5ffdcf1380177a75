"""What a backtest returns: trades, curves, counts, and the metrics computed from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One round trip: from the first buy of a position to the sale that closed it."""

    symbol: str
    entry_bar: int
    exit_bar: int
    entry_ms: int
    exit_ms: int
    quantity: Decimal  # base bought (additions included)
    entry_price: Decimal  # average buy price, before fees
    exit_price: Decimal  # average sell price, before fees
    pnl: Decimal  # realized, quote, every fee included
    fees: Decimal  # quote
    invested: Decimal  # quote spent on the buys, fees included
    initial_risk: Decimal | None  # quote lost at the first stop; the base of R
    exit_reason: str
    dust: Decimal = Decimal(0)  # base left unsold and carried into the next position

    @property
    def return_pct(self) -> Decimal:
        return self.pnl / self.invested if self.invested else Decimal(0)

    @property
    def r_multiple(self) -> Decimal | None:
        if not self.initial_risk:
            return None
        return self.pnl / self.initial_risk


@dataclass(slots=True)
class BacktestResult:
    symbol: str
    initial_cash: Decimal
    final_cash: Decimal
    final_equity: Decimal  # cash + holdings at the last close
    final_quantity: Decimal  # base held at the end (an open position or dust)
    open_time: np.ndarray  # per bar, ms
    equity: np.ndarray  # per bar at its close (float, for curves and ratios)
    exposure: np.ndarray  # per bar: True while holding a position
    trades: Sequence[TradeRecord]  # a list, or the plain loop's TradeList (read alike)
    fees: Decimal
    evaluated_bars: int  # bars the strategy's evaluate ran on
    visited_bars: int  # bars the event loop processed
    refused: list[tuple[int, str]] = field(default_factory=list)  # (bar, why)
    rejected: int = 0  # entries the risk engine refused
    metrics: object | None = None

    @property
    def drawdown(self) -> np.ndarray:
        peak = np.maximum.accumulate(self.equity)
        return self.equity / peak - 1.0
