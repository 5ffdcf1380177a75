"""A lease in Redis: one holder at a time, across processes and machines.

`SET NX PX` with a random token; renewed in a background thread every TTL/3 while
held; released only by its holder (compare-and-delete in Lua), so a holder that
outlived its TTL can never release its successor's lease. A dead holder's lease
expires after the TTL.
"""

from __future__ import annotations

import secrets
import threading
import time

from .logging import get_logger

logger = get_logger(__name__)

# Delete KEYS[1] only if it still holds ARGV[1].
RELEASE_IF_VALUE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisLease:
    def __init__(self, redis_client, key: str, *, ttl: float, wait: float):
        self.redis = redis_client
        self.key = key
        self.ttl_ms = int(ttl * 1000)
        self.wait = wait
        self.token = secrets.token_hex(16)
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._lost = False

    def acquire(self) -> bool:
        """Try until `wait` seconds have passed; True once held."""
        deadline = time.monotonic() + self.wait
        delay = 0.005
        while True:
            if self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
                self._lost = False
                self._start_renewing()
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 0.2)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        self.redis.eval(RELEASE_IF_VALUE, 1, self.key, self.token)

    def renew(self) -> bool:
        ok = bool(self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))
        if not ok:
            self._lost = True
        return ok

    @property
    def held(self) -> bool:
        return not self._lost and self.redis.get(self.key) == self.token

    def _start_renewing(self) -> None:
        self._stop.clear()
        interval = self.ttl_ms / 3000

        def renew_until_stopped():
            while not self._stop.wait(interval):
                try:
                    if not self.renew():
                        return
                except Exception as exc:
                    # A Redis hiccup: the TTL still protects; try again next interval.
                    logger.warning("lease_renew_failed", key=self.key, error=str(exc))

        self._renewer = threading.Thread(target=renew_until_stopped, daemon=True)
        self._renewer.start()
