"""The request-weight, order-count and connection limiter shared through Redis.

Every process on one egress IP shares these counters, so together they stay inside
Binance's budget. Windows are fixed and aligned like Binance's (on multiples of their
length, in exchange time). A request reserves its weight *before* it is sent; when
the window is full it waits, in arrival order (a Redis queue of waiters, so nobody
starves, with crashed waiters dropped after a few seconds). After the answer,
`reconcile` corrects the counters from that response's own headers.

A 429 or 418 pauses the whole egress scope until Retry-After: every process checks
the pause in the same atomic script that reserves weight.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from apps.core.errors import ValidationError
from apps.monitoring.metrics import (
    EXCHANGE_LIMITER_WAIT_SECONDS,
    EXCHANGE_USED_WEIGHT,
)

from . import conf
from .errors import IpBannedError, RateLimitedError

INTERVAL_MS = {"SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
# A waiter that has not polled for this long is presumed dead and leaves the queue.
STALE_WAITER_MS = 5000
_KEEP_AFTER_WINDOW_MS = 60_000

_RESERVE = """
local now = tonumber(ARGV[1])
local me = ARGV[2]
local stale = tonumber(ARGV[3])
local function enqueue(wake)
  if not redis.call('ZSCORE', KEYS[2], me) then redis.call('ZADD', KEYS[2], now, me) end
  redis.call('ZADD', KEYS[3], now, me)
  if wake then
    redis.call('SET', KEYS[4], wake, 'PX', math.max(1, wake - now))
  end
end
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - stale)
for _, member in ipairs(dead) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZREM', KEYS[3], member)
end
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then
  enqueue(nil)
  return {paused - now, 1}
end
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if head and head ~= me then
  enqueue(nil)
  local wake = tonumber(redis.call('GET', KEYS[4]) or '0')
  return {math.max(wake - now, 5), 0}
end
-- Shared (IP) counters queue their waiters; per-account order counters do not, so
-- one account at its order limit never holds up the others.
local shared_wait, own_wait = 0, 0
local count = #KEYS - 4
for i = 1, count do
  local base = 3 + (i - 1) * 4
  local amount = tonumber(ARGV[base + 1])
  local limit = tonumber(ARGV[base + 2])
  local ends = tonumber(ARGV[base + 3])
  if amount > 0 then
    if amount > limit then return {-1, 0} end
    local used = tonumber(redis.call('GET', KEYS[4 + i]) or '0')
    if used + amount > limit then
      if ARGV[base + 4] == '1' then
        shared_wait = math.max(shared_wait, ends - now)
      else
        own_wait = math.max(own_wait, ends - now)
      end
    end
  end
end
if shared_wait > 0 then
  enqueue(now + shared_wait)
  return {math.max(shared_wait, own_wait), 0}
end
if own_wait > 0 then
  redis.call('ZREM', KEYS[2], me)
  redis.call('ZREM', KEYS[3], me)
  return {own_wait, 0}
end
for i = 1, count do
  local base = 3 + (i - 1) * 4
  local amount = tonumber(ARGV[base + 1])
  if amount > 0 then
    redis.call('INCRBY', KEYS[4 + i], amount)
    -- Relative expiry: exchange time may differ from Redis's clock.
    redis.call('PEXPIRE', KEYS[4 + i], tonumber(ARGV[base + 3]) - now + %(keep)d)
  end
end
redis.call('ZREM', KEYS[2], me)
redis.call('ZREM', KEYS[3], me)
return {0, 0}
""".replace("%(keep)d", str(_KEEP_AFTER_WINDOW_MS))

# ARGV[1]: "max" (never lower: weight) or "set" (orders: fills decrement them).
_RECONCILE = """
local mode = ARGV[1]
for i = 1, #KEYS do
  local value = tonumber(ARGV[1 + (i - 1) * 2 + 1])
  local ttl_ms = tonumber(ARGV[1 + (i - 1) * 2 + 2])
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if mode == 'set' or value > current then
    redis.call('SET', KEYS[i], value)
    redis.call('PEXPIRE', KEYS[i], ttl_ms)
  end
end
return 1
"""

_PAUSE = """
local until_ms = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', until_ms - now)
  return 1
end
return 0
"""


@dataclass(frozen=True)
class WindowLimit:
    name: str  # e.g. "weight:1M", "raw:5M", "orders:10S"
    interval_ms: int
    limit: int  # already the budget: the published limit times the fraction

    def window(self, now_ms: int) -> tuple[int, int]:
        start = now_ms - now_ms % self.interval_ms
        return start, start + self.interval_ms


def _budget(limit: int, fraction: Decimal) -> int:
    return max(1, int((Decimal(limit) * fraction).to_integral_value(rounding=ROUND_FLOOR)))


@dataclass(frozen=True)
class Limits:
    """The budgets of one egress scope, from exchangeInfo's `rateLimits`."""

    weight: tuple[WindowLimit, ...]
    raw: tuple[WindowLimit, ...]
    orders: tuple[WindowLimit, ...]

    @classmethod
    def from_rate_limits(cls, rate_limits: list[dict], fraction: Decimal | None = None):
        fraction = conf.weight_budget_fraction() if fraction is None else fraction
        if not (Decimal(0) < fraction <= Decimal(1)):
            raise ValidationError("EXCHANGE_WEIGHT_BUDGET_FRACTION", "must be in (0, 1]")
        groups: dict[str, list[WindowLimit]] = {
            "REQUEST_WEIGHT": [],
            "RAW_REQUESTS": [],
            "ORDERS": [],
        }
        for item in rate_limits:
            kind = item["rateLimitType"]
            if kind not in groups:
                continue
            number = int(item.get("intervalNum", 1))
            letter = item["interval"][0]
            groups[kind].append(
                WindowLimit(
                    f"{kind.lower()}:{number}{letter}",
                    number * INTERVAL_MS[item["interval"]],
                    _budget(int(item["limit"]), fraction),
                )
            )
        return cls(
            tuple(groups["REQUEST_WEIGHT"]), tuple(groups["RAW_REQUESTS"]), tuple(groups["ORDERS"])
        )

    @classmethod
    def binance_defaults(cls, fraction: Decimal | None = None):
        """Binance Spot's published limits, until exchangeInfo has been read."""
        return cls.from_rate_limits(
            [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                },
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "MINUTE",
                    "intervalNum": 5,
                    "limit": 61000,
                },
            ],
            fraction,
        )


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Limiter:
    """Reserve-before-send limiter for one egress scope (an IP and an environment)."""

    def __init__(self, redis_client, scope: str, limits: Limits, *, clock=wall_ms):
        self.redis = redis_client
        self.scope = scope
        self.limits = limits
        self.clock = clock  # exchange time in ms (wall clock plus the server offset)
        self._reserve = redis_client.register_script(_RESERVE)
        self._reconcile = redis_client.register_script(_RECONCILE)
        self._pause = redis_client.register_script(_PAUSE)
        prefix = f"exchange:limiter:{scope}"
        self._prefix = prefix
        self.pause_key = f"{prefix}:paused-until"
        self.ban_key = f"{prefix}:banned-until"
        self._queue_key = f"{prefix}:queue"
        self._seen_key = f"{prefix}:queue-seen"
        self._wake_key = f"{prefix}:queue-wake"

    # --- keys ------------------------------------------------------------------------
    def _counter_key(self, window: WindowLimit, start: int, account: str | None = None) -> str:
        owner = f"account:{account}" if account is not None else "ip"
        return f"{self._prefix}:{owner}:{window.name}:{start}"

    def _plan(self, now: int, weight: int, orders: int, account: str | None):
        """(key, amount, limit, window end, shared by the IP?) of every counter touched."""
        plan = []
        for window in self.limits.weight:
            start, end = window.window(now)
            plan.append((self._counter_key(window, start), weight, window.limit, end, 1))
        for window in self.limits.raw:
            start, end = window.window(now)
            plan.append((self._counter_key(window, start), 1, window.limit, end, 1))
        if orders and account is not None:
            for window in self.limits.orders:
                start, end = window.window(now)
                key = self._counter_key(window, start, account)
                plan.append((key, orders, window.limit, end, 0))
        return plan

    # --- reserving -------------------------------------------------------------------
    def try_reserve(
        self, weight: int, *, orders: int = 0, account: str | None = None, waiter: str
    ) -> tuple[float, bool]:
        """Reserve now or say how long to wait: (seconds, paused-by-429/418)."""
        now = self.clock()
        plan = self._plan(now, weight, orders, account)
        keys = [self.pause_key, self._queue_key, self._seen_key, self._wake_key]
        args: list = [now, waiter, STALE_WAITER_MS]
        for key, amount, limit, end, shared in plan:
            keys.append(key)
            args.extend([amount, limit, end, shared])
        wait_ms, paused = self._reserve(keys=keys, args=args)
        if wait_ms < 0:
            raise RateLimitedError(
                f"a request of weight {weight} can never fit this budget", retryable=False
            )
        return wait_ms / 1000.0, bool(paused)

    def _give_up(self, waited: float, paused: bool):
        banned_until = self.redis.get(self.ban_key)
        if banned_until and int(banned_until) > self.clock():
            return IpBannedError(
                "the exchange has banned this IP; requests are stopped until the ban ends",
                retry_after=(int(banned_until) - self.clock()) / 1000.0,
            )
        # Not retryable: the caller already waited as long as it was willing to.
        return RateLimitedError(
            f"no request budget within {waited:.1f}s" + (" (paused after a 429)" if paused else ""),
            retryable=False,
        )

    def acquire(
        self,
        weight: int,
        *,
        orders: int = 0,
        account: str | None = None,
        max_wait: float | None = None,
    ) -> float:
        """Block until the weight is reserved; returns the seconds waited."""
        max_wait = conf.limiter_max_wait_seconds() if max_wait is None else max_wait
        waiter = uuid.uuid4().hex
        started = time.monotonic()
        while True:
            wait, paused = self.try_reserve(weight, orders=orders, account=account, waiter=waiter)
            waited = time.monotonic() - started
            if wait <= 0:
                EXCHANGE_LIMITER_WAIT_SECONDS.labels(scope=self.scope).observe(waited)
                return waited
            if waited + wait > max_wait:
                self._leave_queue(waiter)
                raise self._give_up(waited, paused)
            # Poll at least every second so the queue sees us alive.
            time.sleep(min(wait, 1.0))

    async def acquire_async(
        self,
        weight: int,
        *,
        orders: int = 0,
        account: str | None = None,
        max_wait: float | None = None,
    ) -> float:
        """As `acquire`, awaiting instead of blocking (one sub-millisecond Redis call per
        attempt runs inline)."""
        max_wait = conf.limiter_max_wait_seconds() if max_wait is None else max_wait
        waiter = uuid.uuid4().hex
        started = time.monotonic()
        while True:
            wait, paused = self.try_reserve(weight, orders=orders, account=account, waiter=waiter)
            waited = time.monotonic() - started
            if wait <= 0:
                EXCHANGE_LIMITER_WAIT_SECONDS.labels(scope=self.scope).observe(waited)
                return waited
            if waited + wait > max_wait:
                self._leave_queue(waiter)
                raise self._give_up(waited, paused)
            await asyncio.sleep(min(wait, 1.0))

    def _leave_queue(self, waiter: str) -> None:
        self.redis.zrem(self._queue_key, waiter)
        self.redis.zrem(self._seen_key, waiter)

    # --- after the answer ------------------------------------------------------------
    def reconcile(
        self,
        *,
        sent_at_ms: int,
        used_weights: dict[str, int] | None = None,
        order_counts: dict[str, int] | None = None,
        account: str | None = None,
    ) -> None:
        """Trust the response's own headers: they are Binance's count of the window.

        Header suffixes name the window ("1M", "10S", "1D"). A response whose request
        was sent in an earlier window than now is skipped: its count belongs to a
        window that has closed, and applying it to the new one would block it.
        """
        now = self.clock()
        for mode, windows, counts, owner in (
            ("max", self.limits.weight, used_weights, None),
            # Orders are set, not maxed: fills decrement Binance's unfilled-order count.
            ("set", self.limits.orders, order_counts, account),
        ):
            if not counts or (mode == "set" and owner is None):
                continue
            keys, args = [], [mode]
            for window in windows:
                suffix = window.name.split(":", 1)[1]
                if suffix not in counts:
                    continue
                start, end = window.window(now)
                if window.window(sent_at_ms)[0] != start:
                    continue
                keys.append(self._counter_key(window, start, owner))
                args.extend([counts[suffix], end - now + _KEEP_AFTER_WINDOW_MS])
            if keys:
                self._reconcile(keys=keys, args=args)
        if used_weights:
            EXCHANGE_USED_WEIGHT.labels(scope=self.scope).set(max(used_weights.values()))

    def used(self, window_name: str | None = None, account: str | None = None) -> int:
        """The count of a window now (default: the first request-weight window)."""
        if window_name is None:
            window_name = self.limits.weight[0].name
        for window in self.limits.weight + self.limits.raw + self.limits.orders:
            if window.name == window_name:
                start, _ = window.window(self.clock())
                value = self.redis.get(self._counter_key(window, start, account))
                return int(value or 0)
        raise KeyError(window_name)

    # --- 429 / 418 -------------------------------------------------------------------
    def pause(self, seconds: float, *, banned: bool = False) -> bool:
        """Stop every process of this scope for `seconds`; True if this extended the pause."""
        now = self.clock()
        duration = max(1, math.ceil(seconds * 1000))
        until = now + duration
        if banned:
            self.redis.set(self.ban_key, until, px=duration)
        return bool(self._pause(keys=[self.pause_key], args=[until, now]))

    def paused_for(self) -> float:
        value = self.redis.get(self.pause_key)
        return max(0.0, (int(value) - self.clock()) / 1000.0) if value else 0.0

    def banned(self) -> bool:
        value = self.redis.get(self.ban_key)
        return bool(value) and int(value) > self.clock()


class ConnectionAttemptLimiter(Limiter):
    """WebSocket connection attempts: 300 per 5 minutes per IP, shared like weight."""

    def __init__(self, redis_client, scope: str, *, clock=wall_ms, fraction=None):
        from .weights import WS_CONNECTION_ATTEMPTS_LIMIT, WS_CONNECTION_ATTEMPTS_WINDOW_MS

        fraction = conf.weight_budget_fraction() if fraction is None else fraction
        window = WindowLimit(
            "ws-connections:5M",
            WS_CONNECTION_ATTEMPTS_WINDOW_MS,
            _budget(WS_CONNECTION_ATTEMPTS_LIMIT, fraction),
        )
        super().__init__(redis_client, f"{scope}:ws", Limits((window,), (), ()), clock=clock)
