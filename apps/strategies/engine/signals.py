"""What a strategy says about one closed candle."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from decimal import Decimal


class Action(enum.StrEnum):
    ENTER_LONG = "enter_long"
    EXIT = "exit"
    HOLD = "hold"
    # The strategy raised: recorded for operators, never sent towards orders.
    ERROR = "error"


def price_to_decimal(value: float | None) -> Decimal | None:
    """Float indicator maths -> Decimal price for the risk engine.

    Uses the shortest repr of the float, so 0.1 becomes Decimal("0.1") rather than
    its 55-digit binary expansion. NaN or infinite prices are refused (None)."""
    if value is None or not math.isfinite(value):
        return None
    return Decimal(repr(float(value)))


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's verdict for (strategy, version, params, symbol, interval, candle).

    ``stop`` and ``target`` are suggested prices (Decimal) or None; ``indicators``
    holds the values the decision was made from, for the decision record.
    ``accumulate`` marks scheduled buying (DCA) that adds to a holding rather than
    opening a trade with a target.
    """

    action: Action
    reason: str
    strategy: str
    version: str
    symbol: str
    interval: str
    candle_time: int | None
    stop: Decimal | None = None
    target: Decimal | None = None
    accumulate: bool = False
    indicators: dict[str, float] = field(default_factory=dict)

    @property
    def actionable(self) -> bool:
        return self.action in (Action.ENTER_LONG, Action.EXIT)

    def as_record(self) -> dict:
        """JSON-safe form for the decision record (prices as strings; NaN indicator
        values as None, since JSON has no NaN)."""
        return {
            "action": self.action.value,
            "reason": self.reason,
            "strategy": self.strategy,
            "version": self.version,
            "symbol": self.symbol,
            "interval": self.interval,
            "candle_time": self.candle_time,
            "stop": None if self.stop is None else str(self.stop),
            "target": None if self.target is None else str(self.target),
            "accumulate": self.accumulate,
            "indicators": {
                name: value if math.isfinite(value) else None
                for name, value in self.indicators.items()
            },
        }
