"""The strategy interface and the safe way to run one."""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from .context import MarketContext
from .params import ParamSchema
from .signals import Action, Signal, price_to_decimal


class Strategy(abc.ABC):
    """Base class of every strategy plug-in.

    A strategy is a pure function of its parameters and the newest ``history``
    candles: ``evaluate`` must not keep state between calls, read clocks or do I/O.
    The runner hands it exactly ``history`` candles, so a signal is the same in live
    trading, in a backtest and when recomputed later. Stops that move with the open
    position (trailing, break-even, partial exits) belong to exit management, not here.
    """

    key: ClassVar[str]  # stable identifier, e.g. "trend_following"
    version: ClassVar[str]  # bump whenever the same inputs could give another signal
    name: ClassVar[str]
    schema: ClassVar[ParamSchema]

    __slots__ = ("params",)

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.params = self.schema.validate(params)

    @property
    @abc.abstractmethod
    def history(self) -> int:
        """How many closed candles ``evaluate`` reads (the newest ones)."""

    @abc.abstractmethod
    def evaluate(self, ctx: MarketContext) -> Signal:
        """Signal for the last candle of ``ctx`` (which holds ``history`` candles)."""

    @property
    def fingerprint(self) -> str:
        """Stable identity of (strategy, version, parameters): with symbol, interval and
        candle it keys a signal computed once and shared by every account using it."""
        params = json.dumps(self.params, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{self.key}|{self.version}|{params}".encode()).hexdigest()
        return digest[:16]

    def signal(self, ctx: MarketContext, action: Action, reason: str, **extra: Any) -> Signal:
        """Build a Signal stamped with this strategy's identity; floats -> Decimal."""
        stop = extra.pop("stop", None)
        target = extra.pop("target", None)
        return Signal(
            action=action,
            reason=reason,
            strategy=self.key,
            version=self.version,
            symbol=ctx.symbol,
            interval=ctx.interval,
            candle_time=ctx.candle_time,
            stop=price_to_decimal(stop),
            target=price_to_decimal(target),
            **extra,
        )


def run_strategy(strategy: Strategy, ctx: MarketContext) -> Signal:
    """Evaluate safely: the newest ``history`` candles only, never an exception.

    Too little history gives HOLD ("warming up"); an exception inside the strategy
    gives an ERROR signal carrying the exception text, which the order path ignores.
    """
    try:
        needed = strategy.history
        if len(ctx) < needed:
            return strategy.signal(ctx, Action.HOLD, f"warming up: {len(ctx)} of {needed} candles")
        result = strategy.evaluate(ctx.tail(needed))
        if not isinstance(result, Signal):
            raise TypeError(f"evaluate returned {type(result).__name__}, not Signal")
    except Exception as exc:  # any bug in a plug-in must stop here, not at the exchange
        return strategy.signal(ctx, Action.ERROR, f"strategy error: {type(exc).__name__}: {exc}")
    return result
