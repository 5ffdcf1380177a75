"""One Redis client per process for shared counters, locks and heartbeats."""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, decode_responses=True
    )


def get_redis(timeout: float = 2.0) -> redis.Redis:
    return _client(settings.REDIS_URL, timeout)
