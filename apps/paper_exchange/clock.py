"""Clocks: the server's wall clock (signing windows, rate limits) and the market clock.

The market clock maps wall time to market time with a speed factor. In test mode it
stands still until advanced explicitly, so tests move the market deterministically.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wall_ms() -> int:
    return int(time.time() * 1000)


class MarketClock:
    def __init__(
        self,
        start_ms: int,
        speed: float = 1.0,
        manual: bool = False,
        wall: Callable[[], int] = wall_ms,
    ):
        self.speed = speed
        self.manual = manual
        self._wall = wall
        self._wall_anchor = wall()
        self._market_anchor = start_ms

    def now(self) -> int:
        if self.manual:
            return self._market_anchor
        elapsed = self._wall() - self._wall_anchor
        return self._market_anchor + int(elapsed * self.speed)

    def advance(self, milliseconds: int) -> int:
        if milliseconds < 0:
            raise ValueError("the market clock never goes back")
        self._market_anchor += milliseconds
        return self.now()

    def set(self, market_ms: int) -> int:
        current = self.now()
        if market_ms < current:
            raise ValueError("the market clock never goes back")
        return self.advance(market_ms - current)
