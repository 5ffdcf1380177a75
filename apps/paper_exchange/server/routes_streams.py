"""Market stream endpoints: ``/ws/<stream>``, ``/ws``, ``/stream?streams=a/b`` and the live
control messages (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY)."""

from __future__ import annotations

import asyncio
import json
import re
import time

from aiohttp import web

from apps.paper_exchange import errors
from apps.paper_exchange.server.endpoint import EXCHANGE_KEY, client_ip, error_response
from apps.paper_exchange.streams.connection import Connection, client_frames
from apps.paper_exchange.streams.hub import StreamHub, dumps
from apps.paper_exchange.streams.names import parse_stream

HUB_KEY = web.AppKey("stream_hub", StreamHub)
MAX_STREAMS = 1024
MAX_MESSAGES_PER_SECOND = 5
_ID_TEXT = re.compile(r"^[A-Za-z0-9]{1,36}$")
METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")


class ControlError(Exception):
    def __init__(self, code: int, msg: str):
        super().__init__(msg)
        self.code, self.msg = code, msg


def valid_id(value) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, str) and bool(_ID_TEXT.match(value))


def admit_connection(request: web.Request) -> None:
    """300 connection attempts per 5 minutes per IP, faults, and maintenance."""
    exchange = request.app[EXCHANGE_KEY]
    faults = exchange.faults
    if faults.in_maintenance(exchange.wall()):
        raise faults.maintenance_error()
    rule = faults.pick("streams", None, "before")
    if rule is not None and rule.kind in ("error", "rate_limit"):
        raise rule.error()
    exchange.limiter.admit_connection(client_ip(request))


async def market_streams(request: web.Request) -> web.StreamResponse:
    exchange = request.app[EXCHANGE_KEY]
    hub = request.app[HUB_KEY]
    try:
        admit_connection(request)
        names = _requested(request)
        # Names that are not streams are ignored, as production does: ccxt connects to
        # /ws/0 and subscribes afterwards.
        streams = [
            stream
            for stream in (parse_stream(name, exchange.market.specs) for name in names)
            if stream is not None
        ]
        if len(streams) > MAX_STREAMS:
            raise errors.ApiError(-1101, "Too many streams requested.")
    except errors.ApiError as error:
        return error_response(error)
    config = exchange.config
    # Pings and pongs are handled by client_frames (production's timings, and counted).
    ws = web.WebSocketResponse(autoping=False, compress=True)
    await ws.prepare(request)
    connection = Connection(ws, client_ip(request))
    connection.combined = request.path.startswith("/stream")
    connection.micro = request.query.get("timeUnit", "").upper() == "MICROSECOND"
    hub.attach(connection)
    for stream in streams:
        hub.subscribe(connection, stream)
    lifetime = asyncio.get_running_loop().call_later(
        config.ws_max_lifetime_seconds, lambda: asyncio.ensure_future(connection.close())
    )
    try:
        await _read_controls(connection, hub, exchange, config)
    finally:
        lifetime.cancel()
        hub.detach(connection)
        await connection.finish()
    return ws


def _requested(request: web.Request) -> list[str]:
    if request.path.startswith("/stream"):
        value = request.query.get("streams", "")
        return [name for name in value.split("/") if name]
    tail = request.match_info.get("streams", "")
    return [name for name in tail.split("/") if name]


async def _read_controls(connection: Connection, hub: StreamHub, exchange, config) -> None:
    window_start, count = time.monotonic(), 0
    frames = client_frames(connection, config.ws_ping_seconds, config.ws_pong_timeout_seconds)
    async for text in frames:
        now = time.monotonic()
        if now - window_start >= 1:
            window_start, count = now, 0
        count += 1
        if count > MAX_MESSAGES_PER_SECOND:
            # Production disconnects a connection that sends more than 5 messages a second.
            connection.close_soon()
            await frames.aclose()
            return
        if text is not None:
            connection.send(_control(connection, hub, exchange, text))


def _control(connection: Connection, hub: StreamHub, exchange, text: str) -> str:
    request_id = None
    try:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ControlError(
                3, f"Invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"
            ) from None
        if not isinstance(data, dict) or "method" not in data:
            raise ControlError(2, "Invalid request: missing field `method`")
        request_id = data.get("id")
        if "id" not in data or not valid_id(request_id):
            request_id = None
            raise ControlError(2, "Invalid request: request ID must be an unsigned integer")
        method = data["method"]
        if method not in METHODS:
            raise ControlError(
                2,
                f"Invalid request: unknown variant {method}, expected one of "
                + ", ".join(f"`{name}`" for name in METHODS),
            )
        result = _run(connection, hub, exchange, method, data.get("params"))
        return dumps({"result": result, "id": request_id})
    except ControlError as error:
        return dumps({"error": {"code": error.code, "msg": error.msg}, "id": request_id})


def _run(connection: Connection, hub: StreamHub, exchange, method: str, params):
    if method == "LIST_SUBSCRIPTIONS":
        return list(connection.streams)
    if method in ("SET_PROPERTY", "GET_PROPERTY"):
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            raise ControlError(2, "Invalid request: property name must be a string")
        if params[0] != "combined":
            raise ControlError(0, "Unknown property")
        if method == "GET_PROPERTY":
            return connection.combined
        if len(params) != 2 or not isinstance(params[1], bool):
            raise ControlError(1, "Invalid value type: expected Boolean")
        connection.combined = params[1]
        return None
    if not isinstance(params, list) or not all(isinstance(name, str) for name in params):
        raise ControlError(2, "Invalid request: params must be a list of stream names")
    if method == "UNSUBSCRIBE":
        for name in params:
            hub.unsubscribe(connection, name)
        return None
    streams = []
    for name in params:
        stream = parse_stream(name, exchange.market.specs)
        if stream is None:
            raise ControlError(2, f"Invalid request: unknown stream {name}")
        streams.append(stream)
    new = {stream.name for stream in streams} - set(connection.streams)
    if len(connection.streams) + len(new) > MAX_STREAMS:
        raise ControlError(2, f"Invalid request: a connection takes at most {MAX_STREAMS} streams")
    for stream in streams:
        hub.subscribe(connection, stream)
    return None


def routes() -> list:
    return [
        web.get("/ws", market_streams),
        web.get("/ws/{streams:.*}", market_streams),
        web.get("/stream", market_streams),
    ]
