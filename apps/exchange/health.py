"""Connectivity health per environment: ping latency and time offset, sampled by beat.

The samples go to Prometheus and to Redis (`exchange:connectivity:<env>`) for /status.
"""

from __future__ import annotations

import json
import time

from apps.monitoring.health_alerts import track_exchange_latency
from apps.monitoring.metrics import EXCHANGE_PING_MS

from .errors import ExchangeError


def sample_connectivity(gateway) -> dict:
    """Ping once and resync the clock; record both (an error is recorded, not raised)."""
    sample: dict = {"environment": gateway.environment.value, "at": time.time()}
    try:
        started = time.monotonic()
        gateway.request("GET", "/api/v3/ping", retry=False)
        sample["ping_ms"] = round((time.monotonic() - started) * 1000, 1)
        EXCHANGE_PING_MS.labels(environment=gateway.environment.value).set(sample["ping_ms"])
        measured = gateway.sync_time()
        sample["offset_ms"] = measured.offset_ms
        sample["rtt_ms"] = measured.rtt_ms
    except ExchangeError as error:
        sample["error"] = error.code
    gateway.redis.set(
        f"exchange:connectivity:{gateway.environment.value}", json.dumps(sample), ex=3600
    )
    track_exchange_latency(sample, gateway.redis)  # N slow samples in a row: an alert
    return sample
