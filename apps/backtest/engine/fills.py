"""Where simulated orders fill.

``next_open``: an order decided at a candle's close fills at the next candle's open.
``intrabar``: the same, and a protective stop and target rest on the exchange between
closes: a candle whose low touches the stop fills it at the stop (at the open when the
candle opened below it, a gap), one whose high touches the target fills at the target
(at the open on a gap up). When one candle touches both, the stop is taken: a candle's
path inside the bar is unknown, and assuming the worse outcome keeps results honest.

Slippage moves every market fill against the trader; a fill price is then put on the
tick grid, also against the trader. Limit fills (the target) get no slippage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from apps.strategies.engine.errors import ParameterError

ZERO = Decimal(0)
ONE = Decimal(1)
FILL_MODES = ("next_open", "intrabar")


def to_price(value: float) -> Decimal:
    """A candle float as the Decimal it was printed as (shortest repr)."""
    return Decimal(repr(float(value)))


@dataclass(frozen=True, slots=True)
class FillModel:
    mode: str = "next_open"
    commission: Decimal = Decimal("0.001")  # fraction of the fill's value, paid in quote
    slippage: Decimal = ZERO  # fraction of the price, against the trader
    tick_size: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.mode not in FILL_MODES:
            raise ParameterError("fill_mode", f"must be one of {', '.join(FILL_MODES)}")
        for name in ("commission", "slippage"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not (ZERO <= value < Decimal("0.5")):
                raise ParameterError(name, "must be a Decimal in [0, 0.5)")

    @property
    def intrabar(self) -> bool:
        return self.mode == "intrabar"

    def _on_tick(self, price: Decimal, rounding: str) -> Decimal:
        tick = self.tick_size
        if tick <= 0:
            return price
        return (price / tick).to_integral_value(rounding=rounding) * tick

    def market_buy(self, open_price: Decimal) -> Decimal:
        return self._on_tick(open_price * (ONE + self.slippage), ROUND_CEILING)

    def market_sell(self, open_price: Decimal) -> Decimal:
        return self._on_tick(open_price * (ONE - self.slippage), ROUND_FLOOR)

    def stop_fill(self, stop: Decimal, open_price: Decimal, low: Decimal) -> Decimal | None:
        """The sell price of a stop during a candle, or None when it was not touched."""
        if low > stop:
            return None
        # A stop becomes a market order when touched: at the open on a gap down.
        return self.market_sell(min(stop, open_price))

    def target_fill(self, target: Decimal, open_price: Decimal, high: Decimal) -> Decimal | None:
        if high < target:
            return None
        return max(target, open_price)

    def fee(self, gross: Decimal) -> Decimal:
        return gross * self.commission
