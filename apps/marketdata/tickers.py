"""Live prices for the dashboard: the streams publish each symbol's latest price to a
Channels group, at most once per `MARKETDATA_TICKER_INTERVAL_SECONDS` per symbol, so a
busy market never floods the pages (or Redis) with updates nobody can read."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from apps.core.decimals import to_wire

from . import conf


def ticker_group(environment: str) -> str:
    return f"market.{environment}"


class TickerThrottle:
    """Keeps the newest price per symbol and says when one is due for publishing."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._sent_at: dict[str, float] = {}

    def due(self, symbol: str) -> bool:
        now = self._clock()
        if now - self._sent_at.get(symbol, float("-inf")) < self.interval:
            return False
        self._sent_at[symbol] = now
        return True


class TickerPublisher:
    def __init__(self, environment: str, channel_layer=None, interval: float | None = None):
        self.environment = environment
        self.group = ticker_group(environment)
        self._layer = channel_layer
        self.throttle = TickerThrottle(
            conf.ticker_interval_seconds() if interval is None else interval
        )

    async def offer(self, symbol: str, price: Decimal | str, time_ms: int) -> bool:
        """Publish `symbol`'s price unless one went out too recently; True if sent."""
        if not self.throttle.due(symbol):
            return False
        if self._layer is None:
            from channels.layers import get_channel_layer

            self._layer = get_channel_layer()
        await self._layer.group_send(
            self.group,
            {
                "type": "market.ticker",
                "environment": self.environment,
                "symbol": symbol,
                "price": to_wire(Decimal(str(price))),
                "time_ms": int(time_ms),
            },
        )
        return True
