"""WebSocket consumers of the live dashboard."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.accounts.otp import otp_satisfied
from apps.monitoring.metrics import LIVE_CONNECTIONS

from .live import HEARTBEAT_GROUP, market_groups, now_ms

# 4401 mirrors HTTP 401 in the application-defined close-code range (4000-4999).
CLOSE_UNAUTHENTICATED = 4401
# 4403 mirrors HTTP 403: logged in, but the session was not verified by a second factor.
CLOSE_OTP_REQUIRED = 4403


@database_sync_to_async
def _second_factor_ok(user, session) -> bool:
    # Channels does not run django-otp's middleware: check the session ourselves.
    return session is not None and otp_satisfied(user, session)


class LiveHeartbeatConsumer(AsyncJsonWebsocketConsumer):
    """The live channel's heartbeat; later issues add account and order groups."""

    groups_joined: tuple[str, ...] = ()

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await _second_factor_ok(user, self.scope.get("session")):
            await self.close(code=CLOSE_OTP_REQUIRED)
            return
        groups = (HEARTBEAT_GROUP, *market_groups())
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.accept()
        LIVE_CONNECTIONS.inc()
        await self.send_json(
            {"type": "hello", "user": user.get_username(), "server_time_ms": now_ms()}
        )

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.groups_joined:
            LIVE_CONNECTIONS.dec()

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "server_time_ms": now_ms()})
        else:
            await self.send_json({"type": "error", "field": "type", "rule": "must be 'ping'"})

    async def market_ticker(self, event):
        # Market prices are public data: every signed-in member sees every symbol.
        await self.send_json(
            {key: event[key] for key in ("environment", "symbol", "price", "time_ms")}
            | {"type": "ticker"}
        )

    async def live_heartbeat(self, event):
        await self.send_json({"type": "heartbeat", "server_time_ms": event["server_time_ms"]})
