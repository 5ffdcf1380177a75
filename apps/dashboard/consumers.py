"""WebSocket consumers of the live dashboard."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.monitoring.metrics import LIVE_CONNECTIONS

from .live import HEARTBEAT_GROUP, now_ms

# 4401 mirrors HTTP 401 in the application-defined close-code range (4000-4999).
CLOSE_UNAUTHENTICATED = 4401


class LiveHeartbeatConsumer(AsyncJsonWebsocketConsumer):
    """The live channel's heartbeat; later issues add account and order groups."""

    groups_joined: tuple[str, ...] = ()

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.channel_layer.group_add(HEARTBEAT_GROUP, self.channel_name)
        self.groups_joined = (HEARTBEAT_GROUP,)
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

    async def live_heartbeat(self, event):
        await self.send_json({"type": "heartbeat", "server_time_ms": event["server_time_ms"]})
