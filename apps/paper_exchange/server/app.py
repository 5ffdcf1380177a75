"""The aiohttp application and ways to run it (foreground, or on a background thread)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

from aiohttp import web

from apps.paper_exchange import errors
from apps.paper_exchange.config import ExchangeConfig
from apps.paper_exchange.exchange import PaperExchange
from apps.paper_exchange.server import (
    routes_account,
    routes_admin,
    routes_faults,
    routes_general,
    routes_market,
    routes_streams,
    routes_trading,
    routes_wsapi,
)
from apps.paper_exchange.server.endpoint import EXCHANGE_KEY, error_response
from apps.paper_exchange.server.routes_streams import HUB_KEY
from apps.paper_exchange.streams.hub import StreamHub

logger = logging.getLogger(__name__)


@web.middleware
async def json_errors(request: web.Request, handler):
    """Unknown paths and methods answer in Binance's JSON error shape too."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error_response(errors.ApiError(-1020, "This operation is not supported.", 404))
    except web.HTTPMethodNotAllowed:
        return error_response(errors.ApiError(-1020, "This operation is not supported.", 405))


async def _heartbeat(app: web.Application) -> None:
    """Let the market move resting orders along and save the state now and then."""
    exchange = app[EXCHANGE_KEY]
    last_save = time.monotonic()
    while True:
        await asyncio.sleep(exchange.config.tick_seconds)
        try:
            exchange.sync()
            exchange.flush_events()
            if time.monotonic() - last_save >= exchange.config.save_seconds:
                exchange.save()
                last_save = time.monotonic()
        except Exception:
            logger.exception("paper exchange: heartbeat failed")


async def _background(app: web.Application):
    exchange = app[EXCHANGE_KEY]
    hub = app[HUB_KEY]
    tasks = [
        asyncio.create_task(_heartbeat(app)),
        asyncio.create_task(hub.run(exchange.config.stream_step_seconds)),
    ]
    exchange.on_advance.append(hub.wake)
    yield
    exchange.on_advance.remove(hub.wake)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    exchange.save()


async def _close_websockets(app: web.Application) -> None:
    """Tell WebSocket clients the server goes away, then close them (on shutdown)."""
    hub = app[HUB_KEY]
    exchange = app[EXCHANGE_KEY]
    hub.shutdown_notice(list(hub.connections), exchange.market_time())
    for connection in list(hub.connections):
        await connection.close()
    for session in list(hub.api_sessions):
        await session.connection.close()


def create_app(exchange: PaperExchange) -> web.Application:
    app = web.Application(middlewares=[json_errors], client_max_size=1024**2)
    app[EXCHANGE_KEY] = exchange
    app[HUB_KEY] = StreamHub(exchange)
    modules = (
        routes_general,
        routes_market,
        routes_trading,
        routes_account,
        routes_admin,
        routes_faults,
        routes_streams,
        routes_wsapi,
    )
    for module in modules:
        app.add_routes(module.routes())
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_websockets)
    return app


def run(config: ExchangeConfig) -> None:
    """Serve until interrupted (what ``run_paper_exchange`` does)."""
    try:
        exchange = PaperExchange(config)
    except ValueError as error:
        logger.error("paper exchange: %s", error)
        raise SystemExit(2) from None
    logger.info(
        "paper exchange: %d symbols (%s), listening on http://%s:%d",
        len(exchange.market.specs),
        ", ".join(exchange.market.specs),
        config.host,
        config.port,
    )
    web.run_app(
        create_app(exchange),
        host=config.host,
        port=config.port,
        print=None,
        access_log=logging.getLogger("aiohttp.access") if config.access_log else None,
    )


class ServerThread:
    """A paper exchange on its own event loop thread, on an ephemeral loopback port."""

    def __init__(self, config: ExchangeConfig):
        self.config = config
        self.exchange = PaperExchange(config)
        self.port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="paper-exchange", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("paper exchange did not start")
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(create_app(self.exchange), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def call(self, function, *args):
        """Run ``function`` on the server's loop (the engine is not thread-safe)."""

        async def invoke():
            return function(*args)

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(30)

    def stop(self) -> None:
        async def shutdown():
            if self._runner is not None:
                await self._runner.cleanup()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        self._loop.close()
