"""General endpoints: ping, time, exchangeInfo, and the retired userDataStream."""

from __future__ import annotations

from aiohttp import web

from apps.paper_exchange import errors
from apps.paper_exchange.server.endpoint import Context, Endpoint, error_response, route


def ping(context: Context) -> dict:
    return {}


def server_time(context: Context) -> dict:
    return {"serverTime": context.exchange.server_time()}


def exchange_info(context: Context) -> dict:
    params = context.params
    show_sets = params.boolean("showPermissionSets", default=True)
    status = params.enum("symbolStatus", ("TRADING", "HALT", "BREAK"), errors.invalid_parameter)
    if status and ("symbol" in params or "symbols" in params):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    permissions = _permissions(params)
    if permissions is not None and ("symbol" in params or "symbols" in params):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    if "symbol" in params or "symbols" in params:
        specs = context.symbols()
    else:
        specs = list(context.exchange.market.specs.values())
    if permissions is not None and "SPOT" not in permissions:
        specs = []  # every paper symbol has only the SPOT permission
    if status:
        specs = [spec for spec in specs if spec.status == status]
    return {
        "timezone": "UTC",
        "serverTime": context.exchange.server_time(),
        "rateLimits": context.exchange.limiter.exchange_info(),
        "exchangeFilters": [],
        "symbols": [spec.exchange_info(show_sets) for spec in specs],
    }


def _permissions(params) -> list[str] | None:
    value = params.text("permissions")
    if value is None:
        return None
    if value.startswith("["):
        return params.symbol_list("permissions")
    return [value]


async def user_data_stream_gone(request: web.Request) -> web.Response:
    # Production retired the listenKey endpoints on 2026-02-20 and answers 410.
    error = errors.ApiError(-1016, "This service is no longer available.", status=410)
    return error_response(error)


def routes() -> list:
    table: list = []
    route(table, "GET", "/api/v3/ping", Endpoint(ping, weight=1))
    route(table, "GET", "/api/v3/time", Endpoint(server_time, weight=1))
    route(table, "GET", "/api/v3/exchangeInfo", Endpoint(exchange_info, weight=20))
    for method in ("GET", "POST", "PUT", "DELETE"):
        table.append(web.route(method, "/api/v3/userDataStream", user_data_stream_gone))
    return table
