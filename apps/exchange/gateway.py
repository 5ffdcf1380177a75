"""The exchange gateway: the one way Spotdesk calls Binance.

A gateway serves one account (or, without credentials, public market data) in one
environment. Each request goes: circuit breaker → weight reserved in the shared
limiter → signed with the shared time offset → sent through `SpotClient` → the
response's own headers reconcile the limiter → errors mapped (errors.py). Reads retry
with exponential backoff and jitter; writes never retry here (see orders.py).

A gateway object is not thread-safe (its client's session and URL are per object);
use one per thread or task, they share everything that matters through Redis.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
import requests
from binance.exceptions import BinanceAPIException, BinanceRequestException
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from apps.core.redis import get_redis
from apps.monitoring.metrics import (
    EXCHANGE_ENDPOINT_FAILOVERS,
    EXCHANGE_RATE_LIMIT_HITS,
    EXCHANGE_REQUEST_SECONDS,
    EXCHANGE_REQUESTS,
)
from apps.monitoring.tracing import gateway_request_attributes, traced
from apps.monitoring.trading_metrics import record_request_weight

from . import conf
from .breaker import CircuitBreaker
from .client import SpotClient, capturing
from .credentials import Credentials
from .environments import Environment, RestHostSelector, endpoints_for
from .errors import (
    CircuitOpenError,
    ExchangeError,
    ExchangeUnavailableError,
    InvalidOrderError,
    IpBannedError,
    RateLimitedError,
    TemporaryExchangeError,
    TimestampError,
    UncertainOutcomeError,
    map_api_error,
    map_transport_error,
)
from .exchange_info import ExchangeInfoCache, symbol_rules
from .filters import SymbolRules
from .limiter import Limiter, Limits, wall_ms
from .timesync import TimeSync
from .weights import orders_placed, request_weight

logger = logging.getLogger(__name__)

# When a 429 comes without Retry-After, wait this long (Binance always sends it).
DEFAULT_RETRY_AFTER_SECONDS = 10.0
# The longest pause an answer may impose: Binance's IP bans (418) last 2 minutes to 3
# days, and a 429 waits at most for the longest limit window (a day of orders). A
# Retry-After beyond these (a proxy's bug, a corrupted header) must not stop trading
# for years.
MAX_PAUSE_SECONDS = {418: 3 * 24 * 3600.0, 429: 24 * 3600.0}
# Endpoint groups for circuit breakers: trading problems must not stop market data.
GROUP_MARKET, GROUP_ACCOUNT, GROUP_TRADING = "market", "account", "trading"
_STALE_RULES_CODES = {-1013, -1121}


def _is_retryable_read_error(error: BaseException) -> bool:
    if isinstance(error, CircuitOpenError | IpBannedError):
        return False
    return isinstance(error, TemporaryExchangeError | RateLimitedError) and error.retryable


class ExchangeGateway:
    def __init__(
        self,
        environment: str,
        *,
        credentials: Credentials | None = None,
        account_id: str | int | None = None,
        recv_window_ms: int | None = None,
        redis_client=None,
        egress: str | None = None,
        limits: Limits | None = None,
    ):
        self.environment = Environment(environment)
        self.endpoints = endpoints_for(self.environment)
        self.redis = redis_client if redis_client is not None else get_redis()
        self.account_id = str(account_id) if account_id is not None else None
        self.hosts = RestHostSelector(self.redis, self.endpoints)
        self.client = SpotClient(
            rest_base=self.hosts.current(),
            credentials=credentials,
            recv_window_ms=recv_window_ms or conf.default_recv_window_ms(),
            timeout=conf.request_timeout_seconds(),
        )
        self.scope = f"{egress or conf.egress_id()}:{self.environment.value}"
        self.time_sync = TimeSync(self.redis, self.environment.value)
        self.info_cache = ExchangeInfoCache(self.redis, self.environment.value)
        self.limiter = Limiter(
            self.redis, self.scope, limits or self._known_limits(), clock=self.exchange_now_ms
        )
        self._breakers: dict[str, CircuitBreaker] = {}

    def __repr__(self) -> str:
        return f"ExchangeGateway({self.environment.value}, account={self.account_id})"

    # --- time ------------------------------------------------------------------------
    def exchange_now_ms(self) -> int:
        known = self.time_sync.current()
        return wall_ms() + (known.offset_ms if known else 0)

    def _server_ms(self) -> int:
        return int(self.request("GET", "/api/v3/time", retry=False)["serverTime"])

    def sync_time(self):
        """Measure the offset now (beat calls this periodically; -1021 calls it at once)."""
        return self.time_sync.refresh(self._server_ms)

    # --- limits and rules ------------------------------------------------------------
    def _known_limits(self) -> Limits:
        try:
            info = self.info_cache.get()
        except redis.RedisError:
            info = None  # requests will refuse to go out until Redis is back
        if info and info.get("rateLimits"):
            return Limits.from_rate_limits(info["rateLimits"])
        return Limits.binance_defaults()

    def exchange_info(self, *, refresh: bool = False) -> dict:
        info = None if refresh else self.info_cache.get()
        if info is None:
            info = self.request("GET", "/api/v3/exchangeInfo")
            changed = self.info_cache.store(info)
            if changed:
                logger.warning("exchange: symbol status changed: %s", ", ".join(changed))
            if info.get("rateLimits"):
                self.limiter.limits = Limits.from_rate_limits(info["rateLimits"])
        return info

    def symbol_rules(self, symbol: str) -> SymbolRules:
        return symbol_rules(self.exchange_info(), symbol)

    # --- the request path ------------------------------------------------------------
    def _breaker(self, group: str) -> CircuitBreaker | None:
        if self.account_id is None:
            return None
        if group not in self._breakers:
            self._breakers[group] = CircuitBreaker(self.redis, self.account_id, group)
        return self._breakers[group]

    def request(
        self,
        method: str,
        path: str,
        params: dict | None = None,
        *,
        signed: bool = False,
        group: str = GROUP_MARKET,
        retry: bool | None = None,
    ):
        """Send one request; reads (GET) retry transient failures unless retry=False."""
        method = method.upper()
        is_write = method != "GET"
        if retry is None:
            retry = not is_write
        if not retry:
            return self._send(method, path, params, signed=signed, group=group)
        retrying = Retrying(
            stop=stop_after_attempt(conf.read_retry_attempts())
            | stop_after_delay(conf.read_retry_max_seconds()),
            wait=wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.5),
            retry=retry_if_exception(_is_retryable_read_error),
            reraise=True,
        )
        return retrying(self._send, method, path, params, signed=signed, group=group)

    @traced("exchange.request", attributes=gateway_request_attributes)
    def _send(self, method: str, path: str, params: dict | None, *, signed: bool, group: str):
        try:
            return self._send_unguarded(method, path, params, signed=signed, group=group)
        except redis.RedisError as error:
            # Fail closed: without the shared budget this process could get the IP banned.
            raise ExchangeUnavailableError(
                f"shared rate-limit state unavailable ({type(error).__name__}); nothing sent"
            ) from None

    def _send_unguarded(
        self, method: str, path: str, params: dict | None, *, signed: bool, group: str
    ):
        params = dict(params or {})
        is_write = method != "GET"
        weight = request_weight(method, path, params)
        orders = orders_placed(method, path)
        breaker = self._breaker(group)
        if breaker is not None:
            breaker.before_call()
        self.limiter.acquire(weight, orders=orders, account=self.account_id)
        host = self.hosts.current()
        if host != self.client.rest_base:
            self.client.point_at(host)
        if signed:
            self.client.timestamp_offset = self.time_sync.offset_ms(self._server_ms)
        endpoint = f"{method} {path}"
        record_request_weight(self, endpoint, weight)  # API cost per account and endpoint
        sent_at_ms = self.exchange_now_ms()
        started = time.monotonic()
        error: ExchangeError | None = None
        with capturing() as capture:
            try:
                result = self._dispatch(method, path, params, signed)
            except BinanceAPIException as api_error:
                error = map_api_error(
                    api_error.status_code,
                    api_error.code,
                    api_error.message or "",
                    retry_after=capture.retry_after,
                    is_write=is_write,
                    endpoint=endpoint,
                )
            except BinanceRequestException:
                # An answer we could not parse: as good as no answer.
                error = (
                    UncertainOutcomeError("unreadable answer", endpoint=endpoint)
                    if is_write
                    else TemporaryExchangeError("unreadable answer", endpoint=endpoint)
                )
            except requests.RequestException as transport_error:
                error = map_transport_error(transport_error, is_write=is_write, endpoint=endpoint)
        EXCHANGE_REQUEST_SECONDS.labels(environment=self.environment.value).observe(
            time.monotonic() - started
        )
        self.limiter.reconcile(
            sent_at_ms=sent_at_ms,
            used_weights=capture.used_weights,
            order_counts=capture.order_counts,
            account=self.account_id,
        )
        if error is None:
            EXCHANGE_REQUESTS.labels(self.environment.value, endpoint, "ok").inc()
            if breaker is not None:
                breaker.record(True)
            return result
        self._after_error(error, capture, host, breaker, endpoint)
        raise error

    def _dispatch(self, method: str, path: str, params: dict, signed: bool):
        if path.startswith("/sapi/"):
            version, _, rest = path.removeprefix("/sapi/").partition("/")
            return self.client._request_margin_api(
                method.lower(), rest, signed, int(version.removeprefix("v")), data=params
            )
        rest = path.removeprefix("/api/v3/")
        return self.client._request_api(method.lower(), rest, signed, "v3", data=params)

    def _after_error(self, error, capture, host, breaker, endpoint) -> None:
        EXCHANGE_REQUESTS.labels(self.environment.value, endpoint, error.code).inc()
        if isinstance(error, RateLimitedError) and capture.status in (418, 429):
            self._on_rate_limited(error, capture.status)
        elif isinstance(error, TimestampError):
            try:
                self.sync_time()
            except ExchangeError:
                logger.warning("exchange: time resync after -1021 failed")
        elif isinstance(error, InvalidOrderError) and error.exchange_code in _STALE_RULES_CODES:
            self.info_cache.invalidate()
        counts_against_health = isinstance(error, TemporaryExchangeError | UncertainOutcomeError)
        if counts_against_health and not isinstance(error, CircuitOpenError):
            if breaker is not None:
                breaker.record(False)
            if self.environment is Environment.LIVE and (
                capture.status is None or capture.status >= 500
            ):
                self.hosts.mark_unhealthy(host)
                EXCHANGE_ENDPOINT_FAILOVERS.labels(host=host).inc()

    def _on_rate_limited(self, error: RateLimitedError, status: int) -> None:
        seconds = error.retry_after or DEFAULT_RETRY_AFTER_SECONDS
        seconds = min(max(seconds, 1.0), MAX_PAUSE_SECONDS.get(status, MAX_PAUSE_SECONDS[429]))
        EXCHANGE_RATE_LIMIT_HITS.labels(scope=self.scope, status=str(status)).inc()
        newly = self.limiter.pause(seconds, banned=status == 418)
        logger.warning(
            "exchange: %s from %s, every process pauses %.0fs", status, self.scope, seconds
        )
        if status == 418 and newly:
            self._alert_ban(seconds)

    def _alert_ban(self, seconds: float) -> None:
        # One alert per ban, whichever process saw it first.
        if not self.redis.set(f"{self.limiter.ban_key}:alerted", "1", nx=True, ex=int(seconds) + 1):
            return
        from apps.monitoring.alerts import raise_alert

        try:
            raise_alert(
                "critical",
                "exchange_ip_banned",
                f"Binance banned this IP ({self.scope}) for {seconds:.0f}s; "
                "all requests are stopped until the ban ends.",
                scope=self.scope,
                retry_after=seconds,
            )
        except Exception:
            logger.exception("exchange: could not record the IP-ban alert")

    # --- convenience reads -----------------------------------------------------------
    def ping(self) -> dict:
        return self.request("GET", "/api/v3/ping")

    def klines(self, symbol: str, interval: str, **params) -> list:
        return self.request(
            "GET", "/api/v3/klines", {"symbol": symbol, "interval": interval, **params}
        )

    def depth(self, symbol: str, limit: int = 100) -> dict:
        return self.request("GET", "/api/v3/depth", {"symbol": symbol, "limit": limit})

    def avg_price(self, symbol: str) -> dict:
        return self.request("GET", "/api/v3/avgPrice", {"symbol": symbol})

    def account(self) -> dict:
        return self.request("GET", "/api/v3/account", signed=True, group=GROUP_ACCOUNT)

    def open_orders(self, symbol: str | None = None) -> list:
        params = {"symbol": symbol} if symbol else {}
        return self.request("GET", "/api/v3/openOrders", params, signed=True, group=GROUP_TRADING)

    def query_order(self, symbol: str, client_order_id: str) -> dict:
        """The order by its client id; raises OrderNotFoundError (-2013) if none."""
        return self.request(
            "GET",
            "/api/v3/order",
            {"symbol": symbol, "origClientOrderId": client_order_id},
            signed=True,
            group=GROUP_TRADING,
            retry=False,
        )

    def cancel_order(self, symbol: str, client_order_id: str) -> dict:
        return self.request(
            "DELETE",
            "/api/v3/order",
            {"symbol": symbol, "origClientOrderId": client_order_id},
            signed=True,
            group=GROUP_TRADING,
        )

    def api_restrictions(self) -> dict:
        return self.request(
            "GET", "/sapi/v1/account/apiRestrictions", signed=True, group=GROUP_ACCOUNT
        )


_per_thread = threading.local()


def gateway_for(
    environment: str,
    *,
    credentials: Credentials | None = None,
    account_id: str | int | None = None,
    recv_window_ms: int | None = None,
) -> ExchangeGateway:
    """The calling thread's gateway for this account, kept so that its HTTP session
    (and TLS connection) is reused across tasks. A rotated key is a new gateway."""
    cache = getattr(_per_thread, "gateways", None)
    if cache is None:
        cache = _per_thread.gateways = {}
    key = (
        str(environment),
        None if account_id is None else str(account_id),
        credentials.api_key if credentials else None,
        recv_window_ms,
    )
    if key not in cache:
        cache[key] = ExchangeGateway(
            environment,
            credentials=credentials,
            account_id=account_id,
            recv_window_ms=recv_window_ms,
        )
    return cache[key]
