"""The symbol's filters, as the gateway applies them to a MARKET order.

``apps/exchange/filters.quantize_order`` imports Django (translated refusal messages,
the web layer's ValidationError), so a pure engine cannot call it. This adapter repeats
only its arithmetic for market orders: quantity down to the step (the base precision
when the step is 0), then the minimum quantity and the minimum notional at the
reference price. ``tests/backtest`` checks both agree on the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MarketRules:
    """The filters a backtest needs. Zero means "no such limit"."""

    base_asset: str = "BASE"
    quote_asset: str = "QUOTE"
    step_size: Decimal = ZERO
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    tick_size: Decimal = ZERO
    min_notional: Decimal = ZERO
    base_precision: int = 8
    # The step in use, worked out once: market_quantity runs on every fill.
    _step: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        step = self.step_size if self.step_size > 0 else Decimal(1).scaleb(-self.base_precision)
        object.__setattr__(self, "_step", step)

    @property
    def step(self) -> Decimal:
        return self._step

    def floor_quantity(self, quantity: Decimal) -> Decimal:
        step = self._step
        return (quantity / step).to_integral_value(rounding=ROUND_FLOOR) * step

    def market_quantity(self, quantity: Decimal, price: Decimal) -> Decimal | None:
        """The quantity the exchange would accept for a market order of ``quantity`` at
        about ``price``, or None when it would be refused (LOT_SIZE or NOTIONAL)."""
        quantity = self.floor_quantity(quantity)
        if quantity <= 0 or quantity < self.min_qty:
            return None
        if self.max_qty > 0 and quantity > self.max_qty:
            quantity = self.floor_quantity(self.max_qty)
        if self.min_notional > 0 and quantity * price < self.min_notional:
            return None
        return quantity

    def is_dust(self, quantity: Decimal, price: Decimal) -> bool:
        """Too little to sell: what the trading core closes a position with and carries
        into the next one."""
        return self.market_quantity(quantity, price) is None
