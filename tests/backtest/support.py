"""Small candle series and a scripted strategy for hand-computed backtests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from apps.strategies.engine.base import Strategy
from apps.strategies.engine.candles import CANDLE_DTYPE
from apps.strategies.engine.params import ParamSchema
from apps.strategies.engine.signals import Action

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ETHBTC = DATA / "market" / "ETHBTC-5m-2018-01.csv.gz"
XRPETH = DATA / "binance" / "XRPETH-1m-2019-10-11.csv"
MINUTE = 60_000


def bars(rows: list[tuple[float, float, float, float]], interval_ms: int = MINUTE) -> np.ndarray:
    """(open, high, low, close) rows -> a candle array starting at 2024-01-01."""
    out = np.zeros(len(rows), dtype=CANDLE_DTYPE)
    start = 1_704_067_200_000
    for i, (o, h, lo, c) in enumerate(rows):
        out[i] = (start + i * interval_ms, o, h, lo, c, 1.0, start + (i + 1) * interval_ms - 1)
    return out


class Scripted(Strategy):
    """Signals by bar index (read from the candle's time): a pure function of market
    data, like every strategy. ``script`` maps bar -> (action, stop, target)."""

    key = "scripted_test"
    version = "1"
    name = "scripted"
    schema = ParamSchema(())

    def __init__(self, script: dict[int, tuple], start_ms: int = 1_704_067_200_000):
        super().__init__({})
        self.script = script
        self.start_ms = start_ms

    @property
    def history(self) -> int:
        return 1

    def evaluate(self, ctx):
        i = (ctx.candle_time - self.start_ms) // MINUTE
        action, stop, target = self.script.get(i, (Action.HOLD, None, None))
        return self.signal(ctx, action, f"script {i}", stop=stop, target=target)


def dec(value) -> Decimal:
    return Decimal(str(value))
