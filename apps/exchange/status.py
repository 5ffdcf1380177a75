"""What /status shows about the exchange: clocks, connectivity, limits, breakers."""

from __future__ import annotations

import json

from . import breaker, timesync


def exchange_status(redis_client) -> dict:
    connectivity = {}
    for key in redis_client.scan_iter("exchange:connectivity:*"):
        raw = redis_client.get(key)
        if raw:
            connectivity[key.rsplit(":", 1)[1]] = json.loads(raw)
    pauses = {}
    for key in redis_client.scan_iter("exchange:limiter:*:paused-until"):
        scope = key.removeprefix("exchange:limiter:").removesuffix(":paused-until")
        pauses[scope] = {
            "paused_until_ms": int(redis_client.get(key) or 0),
            "banned": redis_client.exists(f"exchange:limiter:{scope}:banned-until") == 1,
        }
    return {
        "time_offsets": timesync.status_snapshot(redis_client),
        "connectivity": connectivity,
        "rate_limit_pauses": pauses,
        "open_breakers": breaker.status_snapshot(redis_client),
    }
