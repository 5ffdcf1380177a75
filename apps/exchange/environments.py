"""Where each environment lives: REST, market-stream and WebSocket API base URLs.

`live` has several equivalent REST hosts; `LiveEndpoints` rotates away from one that
fails (shared through Redis so every process avoids it). An account's environment is
never changed automatically: a live account is never switched to testnet, demo or
paper, because a bot that believes it trades while it does not is worse than a
stopped one (docs/exchange.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from apps.core.errors import ValidationError

from . import conf


class Environment(StrEnum):
    LIVE = "live"
    TESTNET = "testnet"
    DEMO = "demo"
    PAPER = "paper"


@dataclass(frozen=True)
class Endpoints:
    rest: tuple[str, ...]  # base URLs without a path, first preferred
    stream: str
    ws_api: str
    has_sapi: bool  # the Spot testnet has no /sapi (so no apiRestrictions)


LIVE_REST_HOSTS = (
    "https://api.binance.com",
    "https://api-gcp.binance.com",
    "https://api1.binance.com",
    "https://api2.binance.com",
    "https://api3.binance.com",
    "https://api4.binance.com",
)


def endpoints_for(environment: str) -> Endpoints:
    try:
        env = Environment(environment)
    except ValueError:
        raise ValidationError(
            "environment", f"must be one of {', '.join(e.value for e in Environment)}"
        ) from None
    if env is Environment.LIVE:
        return Endpoints(
            LIVE_REST_HOSTS,
            "wss://stream.binance.com:9443",
            "wss://ws-api.binance.com:443/ws-api/v3",
            has_sapi=True,
        )
    if env is Environment.TESTNET:
        return Endpoints(
            (conf.testnet_rest_url(),),
            "wss://stream.testnet.binance.vision",
            "wss://ws-api.testnet.binance.vision/ws-api/v3",
            has_sapi=False,
        )
    if env is Environment.DEMO:
        return Endpoints(
            ("https://demo-api.binance.com",),
            "wss://demo-stream.binance.com",
            "wss://demo-ws-api.binance.com/ws-api/v3",
            has_sapi=False,
        )
    return Endpoints(
        (conf.paper_rest_url(),), conf.paper_stream_url(), conf.paper_ws_api_url(), has_sapi=True
    )


class RestHostSelector:
    """Picks the REST host of an environment, skipping hosts marked unhealthy.

    Only the hosts of the account's own environment are ever candidates. Health is a
    TTL'd Redis key per host, so one process's failure steers all of them away for
    the cool-down; when every host is marked, the least recently failed is used.
    """

    PREFIX = "exchange:rest-host-down:"

    def __init__(self, redis_client, endpoints: Endpoints):
        self.redis = redis_client
        self.hosts = endpoints.rest

    def current(self) -> str:
        if len(self.hosts) == 1:
            return self.hosts[0]
        marks = self.redis.mget([self.PREFIX + host for host in self.hosts])
        healthy = [host for host, mark in zip(self.hosts, marks, strict=True) if mark is None]
        if healthy:
            return healthy[0]
        oldest = min(zip(marks, self.hosts, strict=True), key=lambda pair: float(pair[0]))
        return oldest[1]

    def mark_unhealthy(self, host: str) -> None:
        if len(self.hosts) > 1 and host in self.hosts:
            self.redis.set(
                self.PREFIX + host, str(time.time()), ex=conf.live_endpoint_cooldown_seconds()
            )
