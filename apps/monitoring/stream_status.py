"""What /status shows about the streams process and the exchange request budget.

Streams: each market-data shard writes `spotdesk:heartbeat:streams:<env>:<shard>` and
each user-data shard `spotdesk:heartbeat:userdata:<env>:<shard>` (a JSON document with
`seen_at`, refreshed every few seconds, expiring after a few minutes). A heartbeat older
than STREAMS_HEARTBEAT_STALE_SECONDS is stale; an expired one is gone from the list.

Weight: the limiter's shared counter of the current minute per egress scope
(`exchange:limiter:<scope>:ip:request_weight:1M:<window start>`) against the budget
from that environment's cached exchangeInfo (Binance's published limit otherwise).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from . import conf

STREAM_KINDS = {
    "market data": "spotdesk:heartbeat:streams:",
    "user data": "spotdesk:heartbeat:userdata:",
}
WEIGHT_WINDOW = "request_weight:1M"


@dataclass(frozen=True)
class StreamHeartbeat:
    kind: str
    environment: str
    shard: str
    seen_at: float
    details: dict

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.seen_at)

    @property
    def stale(self) -> bool:
        return self.age_seconds > conf.streams_heartbeat_stale_seconds()

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "environment": self.environment,
            "shard": self.shard,
            "age_seconds": round(self.age_seconds, 1),
            "stale": self.stale,
            **{k: v for k, v in self.details.items() if k not in ("seen_at", "shard")},
        }


def stream_heartbeats(client) -> list[StreamHeartbeat]:
    found = []
    for kind, prefix in STREAM_KINDS.items():
        keys = sorted(client.scan_iter(match=f"{prefix}*", count=500))
        for key, raw in zip(keys, client.mget(keys) if keys else [], strict=True):
            if not raw:
                continue
            document = json.loads(raw)
            environment, _, shard_index = key.removeprefix(prefix).rpartition(":")
            found.append(
                StreamHeartbeat(
                    kind=kind,
                    environment=environment,
                    shard=str(document.get("shard") or shard_index),
                    seen_at=float(document.get("seen_at") or 0),
                    details=document,
                )
            )
    return found


@dataclass(frozen=True)
class WeightUsage:
    scope: str
    used: int
    budget: int

    @property
    def share(self) -> float:
        return self.used / self.budget if self.budget else 0.0

    def as_dict(self) -> dict:
        return {
            "scope": self.scope,
            "used": self.used,
            "budget": self.budget,
            "share": round(self.share, 4),
        }


def _budget(client, environment: str) -> int:
    from apps.exchange.exchange_info import ExchangeInfoCache
    from apps.exchange.limiter import Limits

    info = ExchangeInfoCache(client, environment).get()
    limits = (
        Limits.from_rate_limits(info["rateLimits"])
        if info and info.get("rateLimits")
        else Limits.binance_defaults()
    )
    return limits.weight[0].limit if limits.weight else 0


def weight_usage(client, *, now_ms: int | None = None) -> list[WeightUsage]:
    """Request weight used in the current minute per egress scope, with its budget."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    window_start = now_ms - now_ms % 60_000
    scopes: dict[str, int] = {}
    for key in client.scan_iter(match=f"exchange:limiter:*:ip:{WEIGHT_WINDOW}:*", count=500):
        head, _, start = key.rpartition(":")
        scope = head.removeprefix("exchange:limiter:").removesuffix(f":ip:{WEIGHT_WINDOW}")
        scopes.setdefault(scope, 0)
        if start.isdigit() and int(start) == window_start:
            scopes[scope] = int(client.get(key) or 0)
    return [
        WeightUsage(scope=scope, used=used, budget=_budget(client, scope.rsplit(":", 1)[-1]))
        for scope, used in sorted(scopes.items())
    ]
