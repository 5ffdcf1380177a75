from __future__ import annotations

import talib

from ..base import Strategy
from ..context import MarketContext
from ..params import ParamSchema, float_param, int_param, less_than
from ..registry import register
from ..signals import Action, Signal


@register
class DonchianBreakout(Strategy):
    """Breakout: buy a close above the highest high of the previous ``entry_period``
    candles when volume is at least ``volume_factor`` times its recent average; stop at
    the lowest low of the previous ``exit_period`` candles; exit on a close below it.

    Works when volatility expands out of a range with real participation (the volume
    filter), and on trending assets over hours to days. Fails on false breakouts in
    choppy markets, and on thin pairs where one trade fakes the volume spike.
    """

    key = "breakout"
    version = "1.0"
    name = "Donchian breakout with volume confirmation"
    schema = ParamSchema(
        (
            int_param(
                "entry_period",
                20,
                minimum=2,
                maximum=400,
                label="Entry channel",
                help_text="Candles whose highest high the close must exceed.",
            ),
            int_param(
                "exit_period",
                10,
                minimum=2,
                maximum=400,
                label="Exit channel",
                help_text="Candles whose lowest low is the stop and exit level.",
            ),
            int_param(
                "volume_period",
                20,
                minimum=2,
                maximum=400,
                label="Volume average",
                help_text="Candles in the average volume the breakout is compared to.",
            ),
            float_param(
                "volume_factor",
                1.5,
                minimum=0.0,
                maximum=20.0,
                label="Volume factor",
                help_text="Breakout volume must be at least this times the average.",
            ),
            float_param(
                "reward_risk",
                2.0,
                minimum=0.5,
                maximum=20.0,
                label="Target (R)",
                help_text="Target distance as a multiple of the stop distance.",
            ),
        ),
        checks=(less_than("exit_period", "entry_period"),),
    )

    @property
    def history(self) -> int:
        p = self.params
        return max(p["entry_period"], p["exit_period"], p["volume_period"]) + 1

    def evaluate(self, ctx: MarketContext) -> Signal:
        p = self.params
        high, low, close, volume = ctx.high, ctx.low, ctx.close, ctx.volume
        # Channels of the previous candles: the current one must break out of them.
        upper = float(talib.MAX(high[:-1], p["entry_period"])[-1])
        exit_low = float(talib.MIN(low[:-1], p["exit_period"])[-1])
        avg_volume = float(talib.SMA(volume[:-1], p["volume_period"])[-1])
        last = float(close[-1])
        values = {"channel_high": upper, "exit_low": exit_low, "avg_volume": avg_volume}
        if last < exit_low:
            return self.signal(ctx, Action.EXIT, "close below the exit channel", indicators=values)
        if last <= upper:
            return self.signal(ctx, Action.HOLD, "inside the channel", indicators=values)
        if float(volume[-1]) < p["volume_factor"] * avg_volume:
            return self.signal(ctx, Action.HOLD, "breakout without volume", indicators=values)
        if not exit_low < last:
            return self.signal(ctx, Action.HOLD, "no room for a stop", indicators=values)
        target = last + p["reward_risk"] * (last - exit_low)
        return self.signal(
            ctx,
            Action.ENTER_LONG,
            f"close above the {p['entry_period']}-candle high on volume",
            stop=exit_low,
            target=target,
            indicators=values,
        )
