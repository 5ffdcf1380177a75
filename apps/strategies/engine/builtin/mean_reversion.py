from __future__ import annotations

import talib

from ..base import Strategy
from ..context import MarketContext
from ..indicators import batch
from ..params import ParamSchema, float_param, int_param, less_than
from ..registry import register
from ..signals import Action, Signal


@register
class RsiBollingerReversion(Strategy):
    """Mean reversion: buy a close below the lower Bollinger band while RSI is
    oversold, stop a set number of standard deviations beyond the band, target the
    middle band; exit when price is back at the middle band or RSI is overbought.

    Works in ranging, liquid markets where stretches away from the mean snap back
    (quiet majors on 5 m-1 h). Fails in strong downtrends and on news: "oversold" keeps
    getting more oversold and the stop is hit. The target is close by, so check it
    still clears the profile's minimum reward:risk.
    """

    key = "mean_reversion"
    version = "1.0"
    name = "RSI + Bollinger mean reversion"
    schema = ParamSchema(
        (
            int_param(
                "bb_period",
                20,
                minimum=5,
                maximum=200,
                label="Bollinger period",
                help_text="Window of the Bollinger middle band (SMA).",
            ),
            float_param(
                "bb_deviations",
                2.0,
                minimum=0.5,
                maximum=5.0,
                label="Band width (std)",
                help_text="Distance of the bands from the middle, in std.",
            ),
            int_param(
                "rsi_period",
                14,
                minimum=2,
                maximum=100,
                label="RSI period",
                help_text="Period of Wilder's RSI.",
            ),
            float_param(
                "oversold",
                30.0,
                minimum=1.0,
                maximum=50.0,
                label="Oversold RSI",
                help_text="Enter only when RSI is at or below this.",
            ),
            float_param(
                "overbought",
                70.0,
                minimum=50.0,
                maximum=99.0,
                label="Overbought RSI",
                help_text="Exit when RSI reaches this.",
            ),
            float_param(
                "stop_deviations",
                1.0,
                minimum=0.1,
                maximum=5.0,
                label="Stop beyond band (std)",
                help_text="Stop distance below the lower band, in std.",
            ),
        ),
        checks=(less_than("oversold", "overbought"),),
    )

    @property
    def history(self) -> int:
        p = self.params
        return max(p["bb_period"], 10 * p["rsi_period"]) + 1

    def evaluate(self, ctx: MarketContext) -> Signal:
        p = self.params
        close = ctx.close
        period = p["bb_period"]
        # Bands from the newest bb_period closes only: nothing older matters to them.
        window = close[-period:]
        middle = float(talib.SMA(window, period)[-1])
        std = float(talib.STDDEV(window, period, 1.0)[-1])
        lower = middle - p["bb_deviations"] * std
        rsi = float(batch.rsi(close, p["rsi_period"])[-1])
        last = float(close[-1])
        values = {"rsi": rsi, "bb_middle": middle, "bb_lower": lower, "bb_std": std}
        if last >= middle or rsi >= p["overbought"]:
            return self.signal(
                ctx,
                Action.EXIT,
                "back at the middle band or RSI overbought",
                indicators=values,
            )
        if last < lower and rsi <= p["oversold"] and std > 0.0:
            stop = min(last, lower) - p["stop_deviations"] * std
            return self.signal(
                ctx,
                Action.ENTER_LONG,
                f"close below lower band with RSI {rsi:.1f}",
                stop=stop,
                target=middle,
                indicators=values,
            )
        return self.signal(ctx, Action.HOLD, "inside the bands", indicators=values)
