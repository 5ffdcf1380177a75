"""exchangeInfo cached in Redis for 24 hours, and each symbol's filter rules.

One fetch serves every process. The cache is dropped (so the next read refetches)
after -1013/-1121 answers or when a symbol's status changes, because either means
Spotdesk's copy of the rules is out of date.
"""

from __future__ import annotations

import json

from apps.core.errors import NotFound

from . import conf
from .filters import SymbolRules


class ExchangeInfoCache:
    def __init__(self, redis_client, environment: str):
        self.redis = redis_client
        self.key = f"exchange:info:{environment}"

    def get(self) -> dict | None:
        raw = self.redis.get(self.key)
        return json.loads(raw) if raw else None

    def store(self, info: dict) -> list[str]:
        """Cache `info`; returns the symbols whose status changed since the last copy."""
        previous = self.get()
        self.redis.set(self.key, json.dumps(info), ex=conf.exchange_info_ttl_seconds())
        if previous is None:
            return []
        before = {item["symbol"]: item.get("status") for item in previous.get("symbols", [])}
        return [
            item["symbol"]
            for item in info.get("symbols", [])
            if item["symbol"] in before and before[item["symbol"]] != item.get("status")
        ]

    def invalidate(self) -> None:
        self.redis.delete(self.key)

    def ttl(self) -> int:
        return self.redis.ttl(self.key)


def symbol_rules(info: dict, symbol: str) -> SymbolRules:
    for item in info.get("symbols", []):
        if item["symbol"] == symbol.upper():
            return SymbolRules.from_exchange_info(item)
    raise NotFound(f"symbol {symbol} is not listed on this exchange", symbol=symbol)


def save_snapshot(environment: str, info: dict):
    from .models import ExchangeInfoSnapshot

    return ExchangeInfoSnapshot.objects.create(
        environment=environment,
        server_time_ms=info.get("serverTime"),
        symbol_count=len(info.get("symbols", [])),
        payload=info,
    )


def warm_from_snapshot(redis_client, environment: str) -> bool:
    """Fill a cold Redis from the newest snapshot younger than the cache lifetime."""
    import datetime as dt

    from .models import ExchangeInfoSnapshot

    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=conf.exchange_info_ttl_seconds())
    snapshot = (
        ExchangeInfoSnapshot.objects.filter(environment=environment, fetched_at__gte=cutoff)
        .order_by("-fetched_at")
        .first()
    )
    if snapshot is None:
        return False
    ExchangeInfoCache(redis_client, environment).store(snapshot.payload)
    return True
