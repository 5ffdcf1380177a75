"""A synthetic order book around the last price, as deep as the market's traded volume.

The book is regenerated from (symbol, market second, last price), so it is the same for
every request within a second and refills between seconds: walking it costs slippage
but does not drain liquidity for later orders.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from apps.paper_exchange.numbers import ceil_to, floor_to

HALF_SPREAD = Decimal("0.00005")  # half a basis point each side
LEVEL_SPACING = Decimal("0.00002")


@lru_cache(maxsize=512)
def _level_factors(symbol: str, second: int, side: str, count: int) -> tuple[Decimal, ...]:
    # One seeded generator per side and second (seeding is the expensive part), cached
    # because every book of that second, and every stream step, reuses the same factors.
    rng = random.Random(f"{symbol}:{second}:{side}")
    return tuple(
        Decimal(str(round(0.4 + rng.random() * (1 + index / 25), 4))) for index in range(count)
    )


@dataclass(frozen=True)
class Level:
    price: Decimal
    qty: Decimal


class SyntheticBook:
    def __init__(
        self,
        symbol: str,
        last_price: Decimal,
        tick: Decimal,
        step: Decimal,
        minute_volume: Decimal,
        second: int,
        levels: int = 1000,
    ):
        self.symbol = symbol
        self.tick = tick
        self.step = step
        self.levels = levels
        self.second = second
        self.spacing = max(tick, floor_to(last_price * LEVEL_SPACING, tick))
        best_ask = ceil_to(last_price * (1 + HALF_SPREAD), tick)
        if best_ask <= last_price:
            best_ask = last_price + tick
        best_bid = floor_to(last_price * (1 - HALF_SPREAD), tick)
        if best_bid >= last_price:
            best_bid = last_price - tick
        self.best_ask = best_ask
        self.best_bid = max(best_bid, tick)
        self.level_qty = max(minute_volume / 20, step)

    def _qty(self, side: str, index: int) -> Decimal:
        factor = _level_factors(self.symbol, self.second, side, self.levels)[index]
        return max(floor_to(self.level_qty * factor, self.step), self.step)

    def asks(self, count: int | None = None) -> Iterator[Level]:
        for index in range(min(count or self.levels, self.levels)):
            yield Level(self.best_ask + self.spacing * index, self._qty("ask", index))

    def bids(self, count: int | None = None) -> Iterator[Level]:
        for index in range(min(count or self.levels, self.levels)):
            price = self.best_bid - self.spacing * index
            if price <= 0:
                return
            yield Level(price, self._qty("bid", index))

    def opposite(self, side: str) -> Iterator[Level]:
        """Levels an order of ``side`` takes from, best first."""
        return self.asks() if side == "BUY" else self.bids()
