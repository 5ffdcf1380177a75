"""The WebSocket API endpoint, ``/ws-api/v3``."""

from __future__ import annotations

import asyncio

from aiohttp import web

from apps.paper_exchange import errors
from apps.paper_exchange.server.endpoint import EXCHANGE_KEY, client_ip, error_response
from apps.paper_exchange.server.routes_streams import HUB_KEY
from apps.paper_exchange.streams.connection import Connection, client_frames
from apps.paper_exchange.wsapi.handlers import CONNECT_WEIGHT, Session, handle


async def websocket_api(request: web.Request) -> web.StreamResponse:
    exchange = request.app[EXCHANGE_KEY]
    hub = request.app[HUB_KEY]
    ip = client_ip(request)
    faults = exchange.faults
    try:
        # Rules of the wsapi group act on requests; a connection fails only in maintenance.
        if faults.in_maintenance(exchange.wall()):
            raise faults.maintenance_error()
        exchange.limiter.admit_connection(ip)
        exchange.limiter.admit(ip, CONNECT_WEIGHT)
    except errors.ApiError as error:
        return error_response(error)
    config = exchange.config
    ws = web.WebSocketResponse(autoping=False, compress=True)
    await ws.prepare(request)
    connection = Connection(ws, ip)
    connection.micro = request.query.get("timeUnit", "").upper() == "MICROSECOND"
    session = Session(
        exchange, connection, request.query.get("returnRateLimits", "true") != "false"
    )
    hub.api_sessions.add(session)
    lifetime = asyncio.get_running_loop().call_later(
        config.ws_max_lifetime_seconds, lambda: asyncio.ensure_future(connection.close())
    )
    try:
        frames = client_frames(connection, config.ws_ping_seconds, config.ws_pong_timeout_seconds)
        async for text in frames:
            if text is None:
                continue
            answer = await handle(session, text)
            if answer is not None:
                connection.send(answer)
            exchange.flush_events()
    finally:
        lifetime.cancel()
        hub.api_sessions.discard(session)
        session.close()
        await connection.finish()
    return ws


def routes() -> list:
    return [web.get("/ws-api/v3", websocket_api)]
