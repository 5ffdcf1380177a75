"""The frame every REST endpoint runs in: rate limits, authentication, JSON answers.

Handlers are plain functions of a :class:`Context`; they return JSON-able data or raise
:class:`ApiError`. This module turns both into Binance-shaped HTTP responses.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from apps.paper_exchange import errors
from apps.paper_exchange.engine.models import Account, ApiKey
from apps.paper_exchange.exchange import PaperExchange
from apps.paper_exchange.server.auth import authenticate
from apps.paper_exchange.server.params import Params
from apps.paper_exchange.symbols import SymbolSpec

logger = logging.getLogger(__name__)
EXCHANGE_KEY = web.AppKey("paper_exchange", PaperExchange)
JSON_TYPE = "application/json"


@dataclass
class Context:
    exchange: PaperExchange
    params: Params
    request: web.Request
    key: ApiKey | None = None
    account: Account | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200

    def symbol(self, name: str = "symbol", required: bool = True) -> SymbolSpec | None:
        value = self.params.text(name, required=required)
        if value is None:
            return None
        spec = self.exchange.market.specs.get(value)
        if spec is None:
            raise errors.invalid_symbol()
        return spec

    def symbols(self) -> list[SymbolSpec]:
        """``symbol``, ``symbols`` or every symbol (ticker-style endpoints)."""
        single = self.symbol(required=False)
        if single is not None:
            if "symbols" in self.params:
                raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
            return [single]
        names = self.params.symbol_list()
        specs = self.exchange.market.specs
        if names is None:
            return list(specs.values())
        if any(name not in specs for name in names):
            raise errors.invalid_symbol()
        return [specs[name] for name in names]


Weight = int | Callable[[Params], int]


@dataclass
class Endpoint:
    handler: Callable[[Context], object]
    weight: Weight = 1
    security: str = "NONE"  # NONE, USER_DATA or TRADE
    # Order placement and cancellation weigh 0 when they succeed (since 2026-04-02).
    free_when_successful: bool = False
    order_count_headers: bool = False
    # Kline rows carry their open and close times at positions 0 and 6.
    kline_rows: bool = False
    # Fault injection group: general, market, trading or account (see faults/).
    group: str = ""


TIME_FIELDS = frozenset(
    {
        "serverTime", "transactTime", "transactionTime", "time", "updateTime", "workingTime",
        "trailingTime", "T", "openTime", "closeTime", "createTime",
    }
)  # fmt: skip


def time_unit(request: web.Request) -> str:
    """MILLISECOND unless the client asks for microseconds with ``X-MBX-TIME-UNIT``."""
    value = request.headers.get("X-MBX-TIME-UNIT")
    if value is None:
        return "MILLISECOND"
    if value.upper() not in ("MILLISECOND", "MICROSECOND"):
        raise errors.ApiError(
            -1194, "Invalid value for time unit; expected either MICROSECOND or MILLISECOND."
        )
    return value.upper()


def in_microseconds(data, kline_rows: bool = False):
    """The same answer with every time field in microseconds."""
    if kline_rows and isinstance(data, list):
        # A close time is the last microsecond of the period, not its last millisecond.
        return [[row[0] * 1000, *row[1:6], row[6] * 1000 + 999, *row[7:]] for row in data]
    if isinstance(data, list):
        return [in_microseconds(item) for item in data]
    if isinstance(data, dict):
        return {
            key: value * 1000
            if key in TIME_FIELDS and isinstance(value, int) and value > 0
            else in_microseconds(value)
            for key, value in data.items()
        }
    return data


def json_response(data, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")),
        status=status,
        content_type=JSON_TYPE,
        headers=headers,
    )


def error_response(error: errors.ApiError, headers: dict | None = None) -> web.Response:
    merged = dict(headers or {})
    merged.update(error.headers)
    return json_response(error.payload(), status=error.status, headers=merged)


def client_ip(request: web.Request) -> str:
    return request.remote or "unknown"


async def apply_fault(exchange, request: web.Request, group: str, account_id: int | None):
    """Injected faults that act before a request is handled: errors, 429s, latency, hangs."""
    rule = exchange.faults.pick(group, account_id, "before")
    if rule is None:
        return
    if rule.kind in ("latency", "hang"):
        await asyncio.sleep(rule.ms / 1000)
        if rule.kind == "hang":
            # Never answer: the client sees its own timeout, then a dropped connection.
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        return
    raise rule.error()


def make_handler(endpoint: Endpoint):
    async def handle(request: web.Request) -> web.Response:
        exchange = request.app[EXCHANGE_KEY]
        limiter = exchange.limiter
        ip = client_ip(request)
        body = await request.text() if request.body_exists else ""
        weight = 0
        context: Context | None = None
        try:
            if exchange.faults.in_maintenance(exchange.wall()):
                raise exchange.faults.maintenance_error()
            params = Params(request.rel_url.raw_query_string, body)
            weight = endpoint.weight(params) if callable(endpoint.weight) else endpoint.weight
            limiter.admit(ip, 0 if endpoint.free_when_successful else weight)
            context = Context(exchange, params, request)
            if endpoint.security != "NONE":
                context.key, context.account = authenticate(
                    exchange.store,
                    request.headers.get("X-MBX-APIKEY"),
                    params,
                    endpoint.security,
                    exchange.server_time(),
                )
            account_id = context.account.account_id if context.account else None
            try:
                await apply_fault(exchange, request, endpoint.group, account_id)
            except errors.ApiError:
                # An injected refusal costs no weight, as a refusal of the limiter does.
                limiter.charge(ip, -(0 if endpoint.free_when_successful else weight))
                raise
            unit = time_unit(request)
            exchange.sync()
            data = endpoint.handler(context)
            accepted = exchange.faults.pick(endpoint.group, account_id, "after")
            if accepted is not None:
                # The order WAS accepted; the client is told its status is unknown.
                raise accepted.error()
            if unit == "MICROSECOND":
                data = in_microseconds(data, endpoint.kline_rows)
            response = json_response(data, status=context.status, headers=context.headers)
        except errors.ApiError as error:
            if endpoint.free_when_successful and error.status not in (418, 429):
                limiter.charge(ip, weight)
            headers = dict(context.headers) if context else {}
            response = error_response(error, headers)
        except Exception:
            logger.exception("paper exchange: %s %s failed", request.method, request.path)
            response = error_response(errors.unknown())
        finally:
            exchange.flush_events()
        suffix = limiter.weight_window.header_suffix
        response.headers[f"X-MBX-USED-WEIGHT-{suffix}"] = str(limiter.used_weight(ip))
        if endpoint.order_count_headers and context and context.account:
            response.headers.update(limiter.order_headers(context.account.account_id))
        return response

    return handle


GENERAL_PATHS = ("/api/v3/ping", "/api/v3/time", "/api/v3/exchangeInfo")


def endpoint_group(path: str, endpoint: Endpoint) -> str:
    if path in GENERAL_PATHS:
        return "general"
    if endpoint.security == "TRADE":
        return "trading"
    if endpoint.security == "USER_DATA":
        return "account"
    return "market"


def route(routes: list, method: str, path: str, endpoint: Endpoint) -> None:
    endpoint.group = endpoint.group or endpoint_group(path, endpoint)
    routes.append(web.route(method, path, make_handler(endpoint)))
