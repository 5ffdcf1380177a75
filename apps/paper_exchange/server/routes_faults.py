"""Admin endpoints of the fault injector (not part of Binance), behind the admin token.

``/admin/faults``: rules, seed, clock skew, maintenance, depth stream faults.
``/admin/streams``: drop, stall or shut down WebSocket connections now.
``/admin/symbols``: change a symbol's status or rules mid-run.
``/admin/market``: script the next minutes' closes of a symbol (steer the price).
"""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal, InvalidOperation

from aiohttp import web

from apps.paper_exchange.faults.injector import FaultError
from apps.paper_exchange.provisioning import ProvisioningError
from apps.paper_exchange.server.endpoint import EXCHANGE_KEY, json_response
from apps.paper_exchange.server.routes_admin import _authorised, _error
from apps.paper_exchange.server.routes_streams import HUB_KEY

SYMBOL_STATUSES = ("TRADING", "HALT", "BREAK", "END_OF_DAY", "PRE_TRADING", "POST_TRADING")


def guarded(handler):
    async def run(request: web.Request) -> web.Response:
        refused = _authorised(request)
        if refused is not None:
            return refused
        try:
            body = await request.json() if request.body_exists else {}
        except ValueError:
            return _error(400, "body: expected a JSON object")
        if not isinstance(body, dict):
            return _error(400, "body: expected a JSON object")
        try:
            return json_response(await handler(request, body))
        except (FaultError, ProvisioningError, TypeError, ValueError) as error:
            return _error(400, str(error))

    return run


async def get_faults(request: web.Request, body: dict) -> dict:
    exchange = request.app[EXCHANGE_KEY]
    return exchange.faults.describe(exchange.wall())


async def set_faults(request: web.Request, body: dict) -> dict:
    exchange = request.app[EXCHANGE_KEY]
    exchange.faults.configure(body, exchange.wall())
    return exchange.faults.describe(exchange.wall())


async def clear_faults(request: web.Request, body: dict) -> dict:
    exchange = request.app[EXCHANGE_KEY]
    exchange.faults.clear()
    return exchange.faults.describe(exchange.wall())


async def stream_action(request: web.Request, body: dict) -> dict:
    """``{"action": "drop" | "stall" | "shutdown", "target": "streams" | "wsapi" | "all",
    "symbol": ..., "stream": ..., "seconds": ...}``: act on matching connections now."""
    exchange = request.app[EXCHANGE_KEY]
    hub = request.app[HUB_KEY]
    action = body.get("action")
    if action not in ("drop", "stall", "shutdown"):
        raise FaultError("action: drop, stall or shutdown")
    target = body.get("target", "all")
    if target not in ("streams", "wsapi", "all"):
        raise FaultError("target: streams, wsapi or all")
    symbol = body.get("symbol")
    connections = []
    if target in ("streams", "all"):
        connections.extend(hub.matching(symbol.upper() if symbol else None, body.get("stream")))
    sessions = list(hub.api_sessions) if target in ("wsapi", "all") else []
    now = exchange.market_time()
    if action == "drop":
        for connection in [*connections, *(session.connection for session in sessions)]:
            connection.drop()
    elif action == "stall":
        seconds = float(body.get("seconds", 30))
        for connection in connections:
            connection.stall(seconds)
    else:
        hub.shutdown_notice(connections, now)
        for session in sessions:
            session.connection.send(f'{{"event":{{"e":"serverShutdown","E":{now}}}}}')
        grace = float(body.get("seconds", 1))
        everyone = [*connections, *(session.connection for session in sessions)]
        asyncio.get_running_loop().call_later(
            grace, lambda: [asyncio.ensure_future(item.close()) for item in everyone]
        )
    return {"connections": len(connections), "sessions": len(sessions)}


async def change_symbol(request: web.Request, body: dict) -> dict:
    """``{"symbol": "BTCUSDT", "status": "BREAK", "set": {"min_notional": "10"}}``."""
    exchange = request.app[EXCHANGE_KEY]
    spec = exchange.market.specs.get(str(body.get("symbol", "")).upper())
    if spec is None:
        raise FaultError("symbol: not listed")
    status = body.get("status")
    if status is not None:
        if status not in SYMBOL_STATUSES:
            raise FaultError(f"status: one of {', '.join(SYMBOL_STATUSES)}")
        spec.status = status
    fields = {item.name: item for item in dataclasses.fields(spec)}
    for name, value in (body.get("set") or {}).items():
        item = fields.get(name)
        if item is None or name in ("symbol", "base", "quote", "status"):
            raise FaultError(f"set: {name} is not a rule that can change")
        current = getattr(spec, name)
        try:
            if isinstance(current, Decimal) or "Decimal" in str(item.type):
                value = Decimal(str(value))
            elif isinstance(current, bool):
                value = bool(value)
            elif isinstance(current, int):
                value = int(value)
        except (InvalidOperation, ValueError):
            raise FaultError(f"set: {name}: {value!r} is not a valid value") from None
        setattr(spec, name, value)
    return spec.exchange_info(True)


MAX_SCRIPTED_BARS = 10_000


async def script_market(request: web.Request, body: dict) -> dict:
    """``{"symbol": "BTCUSDT", "closes": ["61000", "61500"], "volume": "5"}`` (or
    ``"volumes": [...]``, one per close): the next minutes close at those prices
    (trades, klines, fills and stops follow)."""
    exchange = request.app[EXCHANGE_KEY]
    symbol = str(body.get("symbol", "")).upper()
    if symbol not in exchange.market.series:
        raise FaultError("symbol: not listed")
    closes = body.get("closes")
    if not isinstance(closes, list) or not 0 < len(closes) <= MAX_SCRIPTED_BARS:
        raise FaultError(f"closes: a list of 1 to {MAX_SCRIPTED_BARS} prices")
    raw_volumes = body.get("volumes", [body.get("volume", "10")] * len(closes))
    if not isinstance(raw_volumes, list) or len(raw_volumes) != len(closes):
        raise FaultError("volumes: one volume per close")
    try:
        prices = [Decimal(str(value)) for value in closes]
        volumes = [Decimal(str(value)) for value in raw_volumes]
    except InvalidOperation:
        raise FaultError("closes and volumes: every value must be a decimal number") from None
    if any(not price.is_finite() or price <= 0 for price in prices):
        raise FaultError("closes: every price must be greater than 0")
    if any(not volume.is_finite() or volume <= 0 for volume in volumes):
        raise FaultError("volumes: every volume must be greater than 0")
    first_ms = exchange.market.script(symbol, prices, now=exchange.clock.now(), volumes=volumes)
    return {"symbol": symbol, "firstOpenTime": first_ms, "bars": len(prices)}


def routes() -> list:
    return [
        web.get("/admin/faults", guarded(get_faults)),
        web.post("/admin/faults", guarded(set_faults)),
        web.delete("/admin/faults", guarded(clear_faults)),
        web.post("/admin/streams", guarded(stream_action)),
        web.post("/admin/symbols", guarded(change_symbol)),
        web.post("/admin/market", guarded(script_market)),
    ]
