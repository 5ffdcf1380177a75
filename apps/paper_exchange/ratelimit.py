"""Rate limits in fixed windows aligned to the clock, as Binance counts them.

REQUEST_WEIGHT and RAW_REQUESTS are counted per client IP, the unfilled ORDERS count per
account. A client that keeps sending after a 429 is banned (418), for two minutes at
first and twice as long at each repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.paper_exchange import errors
from apps.paper_exchange.clock import wall_ms
from apps.paper_exchange.config import RateLimits

UNIT_MS = {"S": 1000, "M": 60_000, "H": 3_600_000, "D": 86_400_000}
MAX_BAN_MS = 3 * 86_400_000
UNIT_NAMES = {"S": "SECOND", "M": "MINUTE", "H": "HOUR", "D": "DAY"}


@dataclass
class Window:
    """A fixed window: ``number`` units, starting on multiples of its length."""

    number: int
    unit: str

    @property
    def length_ms(self) -> int:
        return self.number * UNIT_MS[self.unit]

    @property
    def header_suffix(self) -> str:
        return f"{self.number}{self.unit}"

    @property
    def description(self) -> str:
        return f"{self.number} {UNIT_NAMES[self.unit]}"

    def start(self, now: int) -> int:
        return now - now % self.length_ms

    def seconds_left(self, now: int) -> int:
        return max(1, -(-(self.start(now) + self.length_ms - now) // 1000))

    def exchange_info(self, kind: str, limit: int) -> dict:
        return {
            "rateLimitType": kind,
            "interval": UNIT_NAMES[self.unit],
            "intervalNum": self.number,
            "limit": limit,
        }


class WindowCounter:
    """Counts per key within the current window; older windows are forgotten."""

    def __init__(self, window: Window):
        self.window = window
        self._counts: dict[object, tuple[int, int]] = {}

    def get(self, key: object, now: int) -> int:
        start, count = self._counts.get(key, (0, 0))
        return count if start == self.window.start(now) else 0

    def add(self, key: object, amount: int, now: int) -> int:
        value = max(0, self.get(key, now) + amount)
        self._counts[key] = (self.window.start(now), value)
        return value


class RateLimiter:
    def __init__(self, limits: RateLimits, now: Callable[[], int] = wall_ms):
        self.limits = limits
        self.now = now
        self.weight_window = Window(*limits.weight_interval)
        self.raw_window = Window(*limits.raw_interval)
        self.order_windows = [
            (Window(*limits.orders_short_interval), limits.orders_short),
            (Window(*limits.orders_long_interval), limits.orders_long),
        ]
        self.weight = WindowCounter(self.weight_window)
        self.raw = WindowCounter(self.raw_window)
        self.orders = [(WindowCounter(window), limit) for window, limit in self.order_windows]
        self._violations = WindowCounter(self.weight_window)
        self.connection_window = Window(*limits.ws_connections_interval)
        self.connections = WindowCounter(self.connection_window)
        self._banned_until: dict[str, int] = {}
        self._ban_count: dict[str, int] = {}

    def exchange_info(self) -> list[dict]:
        return [
            self.weight_window.exchange_info("REQUEST_WEIGHT", self.limits.weight),
            *(window.exchange_info("ORDERS", limit) for window, limit in self.order_windows),
            self.raw_window.exchange_info("RAW_REQUESTS", self.limits.raw_requests),
        ]

    # -- IP limits -------------------------------------------------------------------------

    def admit(self, ip: str, weight: int) -> None:
        """Count a request from ``ip`` before it is handled; raise 429/418 when over."""
        now = self.now()
        banned_until = self._banned_until.get(ip, 0)
        if now < banned_until:
            raise errors.ip_banned(banned_until, -(-(banned_until - now) // 1000))
        raw = self.raw.add(ip, 1, now)
        over_raw = raw > self.limits.raw_requests
        used = self.weight.get(ip, now)
        if over_raw or used + weight > self.limits.weight:
            self._note_violation(ip, now)
            if over_raw:
                raise errors.too_many_requests(
                    self.limits.raw_requests,
                    self.raw_window.description,
                    self.raw_window.seconds_left(now),
                )
            raise errors.too_much_weight(
                self.limits.weight,
                self.weight_window.description,
                self.weight_window.seconds_left(now),
            )
        self.weight.add(ip, weight, now)

    def charge(self, ip: str, weight: int) -> None:
        """Charge weight decided after handling (failed order requests)."""
        self.weight.add(ip, weight, self.now())

    def used_weight(self, ip: str) -> int:
        return self.weight.get(ip, self.now())

    def _note_violation(self, ip: str, now: int) -> None:
        violations = self._violations.add(ip, 1, now)
        if violations > self.limits.ban_after_violations:
            repeat = self._ban_count.get(ip, 0)
            self._ban_count[ip] = repeat + 1
            # Bans scale from 2 minutes to at most 3 days, as production documents.
            duration = min(self.limits.ban_seconds * 1000 * 2 ** min(repeat, 20), MAX_BAN_MS)
            self._banned_until[ip] = now + duration
            self._violations.add(ip, -violations, now)
            raise errors.ip_banned(now + duration, duration // 1000)

    def admit_connection(self, ip: str) -> None:
        """Count a WebSocket connection attempt (300 per 5 minutes per IP)."""
        now = self.now()
        if self.connections.add(ip, 1, now) > self.limits.ws_connections:
            raise errors.ApiError(
                -1003,
                f"Too many connection attempts; current limit is {self.limits.ws_connections} "
                f"per {self.connection_window.description}.",
                status=429,
                headers={"Retry-After": str(self.connection_window.seconds_left(now))},
            )

    # -- unfilled order count --------------------------------------------------------

    def admit_orders(self, account_id: int, count: int = 1) -> None:
        now = self.now()
        for counter, limit in self.orders:
            if counter.get(account_id, now) + count > limit:
                raise errors.too_many_orders(
                    limit, counter.window.description, counter.window.seconds_left(now)
                )

    def add_orders(self, account_id: int, count: int = 1) -> None:
        now = self.now()
        for counter, _ in self.orders:
            counter.add(account_id, count, now)

    def order_filled(self, account_id: int) -> None:
        """An order's first fill takes it out of the unfilled count (never below 0)."""
        now = self.now()
        for counter, _ in self.orders:
            counter.add(account_id, -1, now)

    def order_counts(self, account_id: int) -> list[tuple[Window, int, int]]:
        now = self.now()
        return [
            (counter.window, limit, counter.get(account_id, now)) for counter, limit in self.orders
        ]

    def order_headers(self, account_id: int) -> dict[str, str]:
        return {
            f"X-MBX-ORDER-COUNT-{window.header_suffix}": str(count)
            for window, _, count in self.order_counts(account_id)
        }
