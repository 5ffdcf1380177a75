"""WebSocket routes of every app, in one place."""

from django.urls import path

from apps.dashboard.consumers import LiveHeartbeatConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveHeartbeatConsumer.as_asgi()),
]
