"""A plain SMA crossover, the strategy the peers (backtesting.py, vectorbt) also run.

Not registered: it exists so that the backtest engine can be validated against them,
not as a product strategy. It follows the plug-in contract like every strategy.
"""

from __future__ import annotations

import talib

from apps.strategies.engine.base import Strategy
from apps.strategies.engine.context import MarketContext
from apps.strategies.engine.params import ParamSchema, int_param, less_than
from apps.strategies.engine.signals import Action, Signal


class SmaCross(Strategy):
    """Enter when SMA(fast) crosses above SMA(slow), exit when it crosses below."""

    ENTER_REASON = "fast SMA crossed above"
    EXIT_REASON = "fast SMA crossed below"

    key = "sma_cross"
    version = "1.0"
    name = "SMA crossover (reference)"
    schema = ParamSchema(
        (
            int_param("fast", 10, minimum=2, maximum=500, label="Fast SMA", help_text="Period."),
            int_param("slow", 30, minimum=3, maximum=1000, label="Slow SMA", help_text="Period."),
        ),
        checks=(less_than("fast", "slow"),),
    )

    @property
    def history(self) -> int:
        return self.params["slow"] + 1

    def evaluate(self, ctx: MarketContext) -> Signal:
        fast = talib.SMA(ctx.close, self.params["fast"])
        slow = talib.SMA(ctx.close, self.params["slow"])
        values = {"sma_fast": float(fast[-1]), "sma_slow": float(slow[-1])}
        if fast[-2] <= slow[-2] and fast[-1] > slow[-1]:
            return self.signal(ctx, Action.ENTER_LONG, self.ENTER_REASON, indicators=values)
        if fast[-2] >= slow[-2] and fast[-1] < slow[-1]:
            return self.signal(ctx, Action.EXIT, self.EXIT_REASON, indicators=values)
        return self.signal(ctx, Action.HOLD, "no crossover", indicators=values)
