from __future__ import annotations

import talib

from ..base import Strategy
from ..context import MarketContext
from ..indicators import batch
from ..params import ParamSchema, float_param, int_param, less_than
from ..registry import register
from ..signals import Action, Signal


@register
class EmaCrossTrend(Strategy):
    """Trend following: buy when the fast EMA crosses above the slow EMA while ADX says
    a trend is present; stop a multiple of ATR below the close; exit on the cross down.

    Works in markets that trend for many candles (ADX above ~20-25), on liquid pairs
    and intervals of 1 h and up where crossovers are not mostly noise. Fails in ranges:
    crosses whipsaw and each costs a stop plus fees; the ADX filter removes many, not
    all. Entries come late by construction, after part of the move.
    """

    key = "trend_following"
    version = "1.0"
    name = "EMA crossover with ADX filter"
    schema = ParamSchema(
        (
            int_param(
                "fast",
                12,
                minimum=2,
                maximum=200,
                label="Fast EMA",
                help_text="Period of the fast exponential moving average.",
            ),
            int_param(
                "slow",
                26,
                minimum=3,
                maximum=400,
                label="Slow EMA",
                help_text="Period of the slow exponential moving average.",
            ),
            int_param(
                "adx_period",
                14,
                minimum=2,
                maximum=100,
                label="ADX period",
                help_text="Period of the average directional index.",
            ),
            float_param(
                "adx_min",
                20.0,
                minimum=0.0,
                maximum=100.0,
                label="Minimum ADX",
                help_text="Enter only when ADX is at least this (trend strength).",
            ),
            int_param(
                "atr_period",
                14,
                minimum=1,
                maximum=100,
                label="ATR period",
                help_text="Period of the average true range used for the stop.",
            ),
            float_param(
                "atr_stop",
                2.0,
                minimum=0.1,
                maximum=20.0,
                label="Stop (ATR)",
                help_text="Stop distance below the close, in ATRs.",
            ),
            float_param(
                "reward_risk",
                2.5,
                minimum=0.5,
                maximum=20.0,
                label="Target (R)",
                help_text="Target distance as a multiple of the stop distance.",
            ),
        ),
        checks=(less_than("fast", "slow"),),
    )

    @property
    def history(self) -> int:
        p = self.params
        return max(3 * p["slow"], 5 * p["adx_period"], 3 * p["atr_period"]) + 2

    def evaluate(self, ctx: MarketContext) -> Signal:
        p = self.params
        close, high, low = ctx.close, ctx.high, ctx.low
        fast = talib.EMA(close, p["fast"])
        slow = talib.EMA(close, p["slow"])
        last_close = float(close[-1])
        values = {"ema_fast": float(fast[-1]), "ema_slow": float(slow[-1])}
        crossed_up = fast[-2] <= slow[-2] and fast[-1] > slow[-1]
        crossed_down = fast[-2] >= slow[-2] and fast[-1] < slow[-1]
        if crossed_down:
            return self.signal(
                ctx, Action.EXIT, "fast EMA crossed below slow EMA", indicators=values
            )
        if not crossed_up:
            return self.signal(ctx, Action.HOLD, "no crossover", indicators=values)
        # batch.adx prescales so that TA-Lib's zero tests do not depend on the price level.
        adx = float(batch.adx(high, low, close, p["adx_period"])[-1])
        atr = float(talib.ATR(high, low, close, p["atr_period"])[-1])
        values.update(adx=adx, atr=atr)
        if not adx >= p["adx_min"]:
            return self.signal(
                ctx,
                Action.HOLD,
                f"crossover up but ADX {adx:.1f} < {p['adx_min']:g}",
                indicators=values,
            )
        if not atr > 0.0:
            return self.signal(ctx, Action.HOLD, "ATR is zero: no stop distance", indicators=values)
        stop = last_close - p["atr_stop"] * atr
        target = last_close + p["reward_risk"] * (last_close - stop)
        return self.signal(
            ctx,
            Action.ENTER_LONG,
            f"fast EMA crossed above slow EMA with ADX {adx:.1f}",
            stop=stop,
            target=target,
            indicators=values,
        )
