"""Circuit breakers per (account, endpoint group), their state in Redis.

All workers see the same state: after N consecutive failures, or an error rate above
the threshold over enough calls in the window, the breaker opens and refuses calls
without sending them. After the open period one caller at a time gets through as a
half-open probe: success closes the breaker, failure opens it again.
"""

from __future__ import annotations

import time

from apps.monitoring.metrics import EXCHANGE_CIRCUIT_STATE

from . import conf
from .errors import CircuitOpenError

CLOSED, HALF_OPEN, OPEN = "closed", "half_open", "open"
_STATE_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}

# KEYS: state hash, window calls key, window failures key
# ARGV: outcome ("ok"/"fail"), now (s), threshold, rate, min calls, window s, open s
_RECORD = """
local now = tonumber(ARGV[2])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local calls = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
if ARGV[1] == 'ok' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'consecutive', 0)
  return 'closed'
end
local failures = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
local consecutive = redis.call('HINCRBY', KEYS[1], 'consecutive', 1)
local rate_tripped = calls >= tonumber(ARGV[5]) and failures / calls >= tonumber(ARGV[4])
if state == 'half_open' or consecutive >= tonumber(ARGV[3]) or rate_tripped then
  redis.call('HSET', KEYS[1], 'state', 'open', 'open_until', now + tonumber(ARGV[7]))
  return 'open'
end
return state
"""


class CircuitBreaker:
    def __init__(self, redis_client, account: str, group: str):
        self.redis = redis_client
        self.account = account
        self.group = group
        base = f"exchange:breaker:{account}:{group}"
        self.state_key = base
        self.probe_key = f"{base}:probe"
        self._record = redis_client.register_script(_RECORD)
        self._window_base = base

    def _window_keys(self) -> list[str]:
        window = conf.breaker_window_seconds()
        slot = int(time.time()) // window
        return [f"{self._window_base}:calls:{slot}", f"{self._window_base}:failures:{slot}"]

    def state(self) -> str:
        data = self.redis.hgetall(self.state_key)
        state = data.get("state", CLOSED)
        if state == OPEN and float(data.get("open_until", 0)) <= time.time():
            return HALF_OPEN
        return state

    def before_call(self) -> None:
        """Raise CircuitOpenError unless this call may go (closed, or the one probe)."""
        data = self.redis.hgetall(self.state_key)
        state = data.get("state", CLOSED)
        if state == CLOSED:
            return
        open_until = float(data.get("open_until", 0))
        if state == OPEN and time.time() < open_until:
            self._publish(OPEN)
            raise CircuitOpenError(
                f"circuit open for {self.group} until the exchange recovers",
                retry_after=open_until - time.time(),
            )
        # Half-open: one probe at a time, others keep failing fast.
        probe_ttl = max(1, int(conf.request_timeout_seconds()) + 1)
        if not self.redis.set(self.probe_key, "1", nx=True, ex=probe_ttl):
            raise CircuitOpenError(f"circuit half-open for {self.group}: a probe is running")
        self.redis.hset(self.state_key, "state", HALF_OPEN)
        self._publish(HALF_OPEN)

    def record(self, success: bool) -> str:
        keys = [self.state_key, *self._window_keys()]
        state = self._record(
            keys=keys,
            args=[
                "ok" if success else "fail",
                time.time(),
                conf.breaker_failure_threshold(),
                conf.breaker_error_rate(),
                conf.breaker_min_calls(),
                conf.breaker_window_seconds(),
                conf.breaker_open_seconds(),
            ],
        )
        if state != HALF_OPEN:
            self.redis.delete(self.probe_key)
        self._publish(state)
        return state

    def _publish(self, state: str) -> None:
        EXCHANGE_CIRCUIT_STATE.labels(account=self.account, group=self.group).set(
            _STATE_VALUE[state]
        )


def status_snapshot(redis_client) -> list[dict]:
    """Breakers that are not closed, for the /status page."""
    rows = []
    for key in redis_client.scan_iter("exchange:breaker:*"):
        if key.count(":") != 3 or redis_client.type(key) != "hash":
            continue
        _, _, account, group = key.split(":")
        breaker = CircuitBreaker(redis_client, account, group)
        state = breaker.state()
        if state != CLOSED:
            rows.append({"account": account, "group": group, "state": state})
    return rows
