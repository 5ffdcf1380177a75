"""ASGI entry point: HTTP (admin, API, pages) and WebSockets (live updates) on daphne."""

import os

from apps.core.asgi_handler import get_sync_chain_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Sets up Django before the imports below; one thread hop per request, not ten.
django_asgi_app = get_sync_chain_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from config.heap import freeze_startup_heap  # noqa: E402
from config.startup import run_system_checks_or_exit  # noqa: E402
from config.websockets import websocket_urlpatterns  # noqa: E402

run_system_checks_or_exit("web")

# Without a reverse proxy in front (make run, tests), daphne serves /static/ itself.
http_app = (
    ASGIStaticFilesHandler(django_asgi_app)
    if getattr(settings, "SPOTDESK_SERVE_STATIC", settings.DEBUG)
    else django_asgi_app
)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Last: what start-up built is frozen out of the collector's passes (config/heap.py).
freeze_startup_heap()
