"""Django's ASGI handler with the middleware chain run synchronously, in one hop.

Every view of this project, and two of its middlewares, are synchronous. Django's own
ASGI handler builds an asynchronous chain: each `MiddlewareMixin` middleware then calls
its `process_request`/`process_response`/`process_view` through `sync_to_async`, the
first sync-only middleware hands back to the event loop through `async_to_sync`, and
the view takes one more `sync_to_async`. About ten thread hand-offs per request, 2 ms
of CPU of a list request's 8 (docs/performance.md, "Load"). Here the chain is built as
under WSGI and the whole request crosses to the thread once. Concurrency is unchanged:
the hop is thread-sensitive inside Django's per-request `ThreadSensitiveContext`, as
the view's own hop was. WebSockets (Channels consumers) do not pass through here.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_sync_chain_asgi_application() -> SyncChainASGIHandler:
    """`django.core.asgi.get_asgi_application` with this handler."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
