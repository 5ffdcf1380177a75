from __future__ import annotations

from ..base import Strategy
from ..context import MarketContext
from ..params import ParamSchema, float_param, int_param
from ..registry import register
from ..signals import Action, Signal

_HOUR_MS = 3_600_000


@register
class DCAAccumulator(Strategy):
    """DCA accumulator for long-term holders: one buy at the first candle of every
    ``every_hours`` block (UTC, counted from the epoch, so the schedule does not depend
    on when the bot started), skipped when price trades more than ``max_premium``
    above its ``trend_period`` average. Signals carry no stop or target; the risk
    profile sizes each buy and exit management decides whether stops apply.

    Works for steady accumulation of assets you mean to hold for years, smoothing
    the entry price. Fails as a trading strategy: it never sells, keeps buying
    through a long bear market, and only pays off if the asset recovers.
    """

    key = "dca"
    version = "1.0"
    name = "DCA accumulator"
    schema = ParamSchema(
        (
            int_param(
                "every_hours",
                24,
                minimum=1,
                maximum=24 * 90,
                label="Buy every (h)",
                help_text="Hours between scheduled buys, aligned to UTC.",
            ),
            int_param(
                "trend_period",
                50,
                minimum=2,
                maximum=1000,
                label="Average period",
                help_text="Candles in the average used by the premium filter.",
            ),
            float_param(
                "max_premium",
                0.10,
                minimum=0.0,
                maximum=10.0,
                label="Maximum premium",
                help_text="Skip a buy when close exceeds the average by more than "
                "this share (0.10 = 10%).",
            ),
        )
    )

    @property
    def history(self) -> int:
        return self.params["trend_period"] + 1

    def evaluate(self, ctx: MarketContext) -> Signal:
        p = self.params
        block = p["every_hours"] * _HOUR_MS
        now, before = int(ctx.open_time[-1]), int(ctx.open_time[-2])
        average = float(ctx.close[-p["trend_period"] :].mean())
        last = float(ctx.close[-1])
        values = {"average": average}
        if now // block == before // block:
            return self.signal(ctx, Action.HOLD, "not a scheduled buy", indicators=values)
        if last > average * (1.0 + p["max_premium"]):
            return self.signal(
                ctx,
                Action.HOLD,
                "scheduled buy skipped: price above the premium limit",
                indicators=values,
            )
        return self.signal(
            ctx, Action.ENTER_LONG, "scheduled accumulation buy", accumulate=True, indicators=values
        )
