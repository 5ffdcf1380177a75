"""Seeded synthetic candles: geometric Brownian motion with volatility regimes.

Bars are generated in fixed-size chunks, each chunk seeded by its own index, so the
same seed gives the same market whatever order the chunks are asked for in.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal

from apps.paper_exchange.marketdata.bars import Bar
from apps.paper_exchange.numbers import EIGHT_PLACES

MINUTES_PER_YEAR = 365 * 24 * 60
# Calm, normal and stormy regimes as multiples of the symbol's volatility.
REGIME_SCALES = (0.5, 1.0, 2.5)
REGIME_SWITCH_PROBABILITY = 1 / 720  # about twice a day on 1m bars
STEPS_PER_BAR = 8


class GbmGenerator:
    """Produces bars that continue from a previous close."""

    def __init__(
        self,
        seed: str,
        bar_ms: int,
        annual_volatility: float,
        bar_volume: Decimal,
        tick: Decimal,
    ):
        self.seed = seed
        self.bar_ms = bar_ms
        minutes = bar_ms / 60000
        self.bar_sigma = annual_volatility * math.sqrt(minutes / MINUTES_PER_YEAR)
        self.bar_volume = bar_volume
        self.tick = tick
        self._tick_float = float(tick)

    def bars(
        self, first_index: int, count: int, open_time: int, price: Decimal, scale: float = 1.0
    ) -> list[Bar]:
        """``count`` bars continuing from ``price``; prices multiplied by ``scale``."""
        return [
            self.to_bar(open_time + offset * self.bar_ms, row, scale)
            for offset, row in enumerate(self.float_rows(first_index, count, float(price)))
        ]

    def float_rows(self, first_index: int, count: int, level: float) -> list[tuple]:
        """(open, high, low, close, volume scale, taker share) per bar, in floats."""
        rng = random.Random(f"{self.seed}:{first_index}")
        regime = rng.randrange(len(REGIME_SCALES))
        rows = []
        for _ in range(count):
            if rng.random() < REGIME_SWITCH_PROBABILITY:
                regime = rng.randrange(len(REGIME_SCALES))
            sigma = self.bar_sigma * REGIME_SCALES[regime] / math.sqrt(STEPS_PER_BAR)
            # Zero drift in log space: -sigma^2/2 keeps the price a martingale.
            drift = -sigma * sigma / 2
            open_price = high = low = current = level
            for _ in range(STEPS_PER_BAR):
                current *= math.exp(rng.gauss(drift, sigma))
                high = max(high, current)
                low = min(low, current)
            level = current
            volume_scale = REGIME_SCALES[regime] * rng.lognormvariate(0, 0.5)
            rows.append((open_price, high, low, current, volume_scale, rng.uniform(0.35, 0.65)))
        return rows

    def to_bar(self, open_time: int, row: tuple, scale: float) -> Bar:
        open_price, high, low, close = (self._on_tick(value * scale) for value in row[:4])
        volume = (self.bar_volume * Decimal(f"{row[4]:.6f}")).quantize(EIGHT_PLACES)
        volume = max(volume, EIGHT_PLACES)
        average = (open_price + high + low + close) / 4
        taker = (volume * Decimal(f"{row[5]:.4f}")).quantize(EIGHT_PLACES)
        return Bar(
            open_time,
            open_price,
            high,
            low,
            close,
            volume,
            (volume * average).quantize(EIGHT_PLACES),
            max(1, int(row[4] * 40)),
            taker,
            (taker * average).quantize(EIGHT_PLACES),
        )

    def _on_tick(self, value: float) -> Decimal:
        steps = math.floor(value / self._tick_float)
        return self.tick * max(steps, 1)
