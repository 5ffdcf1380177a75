"""Django's ASGI handler with a request's synchronous work done in one hop, on a thread
kept from one request to the next.

Every view of this project, and two of its middlewares, are synchronous. Django's own
ASGI handler builds an asynchronous chain: each `MiddlewareMixin` middleware then calls
its `process_request`/`process_response`/`process_view` through `sync_to_async`, the
first sync-only middleware hands back to the event loop through `async_to_sync`, and
the view takes one more `sync_to_async`. About ten thread hand-offs per request, 2 ms
of CPU of a list request's 8 (docs/performance.md, "Load"). Here the chain is built as
under WSGI, and everything a request does synchronously crosses to the thread in one
hop: the `request_started` signal, building the request, the chain and, for a response
held in memory (all but streamed exports and files), `close()` with its
`request_finished` signal, which hands the database connection back before the bytes
leave. Django's handler takes three hops for these, and two tasks per request to watch
for a disconnect that a synchronous view cannot act on; here only a streamed response,
whose iterator may run for long, is sent watching for one, then closed in a second hop.

Django runs each request's synchronous code on one thread of its own (a per-request
`ThreadSensitiveContext`), and asgiref starts that thread for the request and joins it
afterwards: a thread started, a thread joined and a joining thread per request. Here
the request still has one thread to itself for its whole life, but the thread is
leased from `RequestThreads` and handed back when the request is done, as a WSGI
server's threads are. WebSockets (Channels consumers) do not pass through here.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

# Threads kept waiting for the next request; a burst beyond them gets new ones, which
# are let go when it has passed.
IDLE_THREADS_KEPT = 32


class RequestThread(ThreadPoolExecutor):
    """One thread, which knows when the calls given to it have all run."""

    def __init__(self):
        super().__init__(max_workers=1, thread_name_prefix="request")
        self._count_lock = threading.Lock()
        self._pending = 0
        self._on_drained = None

    def submit(self, fn, /, *args, **kwargs):
        with self._count_lock:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        # Runs on this thread before the awaiting request is told the call is done.
        future.add_done_callback(self._one_done)
        return future

    def when_drained(self, callback) -> None:
        """Call `callback` now if nothing is queued or running, else once it has run."""
        with self._count_lock:
            if self._pending:
                self._on_drained = callback
                return
        callback()

    def _one_done(self, _future) -> None:
        with self._count_lock:
            self._pending -= 1
            callback = self._on_drained if self._pending == 0 else None
            if callback is not None:
                self._on_drained = None
        if callback is not None:
            callback()


class RequestThreads:
    """Threads lent to one request at a time and then reused."""

    def __init__(self, keep: int = IDLE_THREADS_KEPT):
        self.keep = keep
        self._idle: list[RequestThread] = []
        self._lock = threading.Lock()
        self.started = 0

    def lease(self) -> RequestThread:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.started += 1
        return RequestThread()

    def give_back(self, thread: RequestThread) -> None:
        """Reusable once everything the request gave it has run: a request cancelled
        mid-call leaves its call running, and the next one must not share the thread
        (and its database connection) while it does."""
        thread.when_drained(lambda: self._keep_or_stop(thread))

    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    def _keep_or_stop(self, thread: RequestThread) -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(thread)
                return
        thread.shutdown(wait=False)


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self, threads: RequestThreads | None = None):
        super().__init__()
        self.threads = threads or RequestThreads()

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's refusal
        executor = self.threads.lease()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self.respond, thread_sensitive=True)(scope, body_file)
            if response.streaming:
                try:
                    await self.stream_unless_disconnected(response, receive, send)
                finally:
                    await sync_to_async(response.close, thread_sensitive=True)()
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def respond(self, scope, body_file):
        """The synchronous part of a request, on its thread: the response, closed
        unless it is streamed."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response

    async def stream_unless_disconnected(self, response, receive, send):
        """Send a streamed response, stopping if the client goes away first."""
        sending = asyncio.create_task(self.send_response(response, send))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        await asyncio.wait([sending, listening], return_when=asyncio.FIRST_COMPLETED)
        for task in (listening, sending):
            if not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        if listening.done() and not listening.cancelled():
            with suppress(RequestAborted):
                listening.result()  # a message other than a disconnect raises here
        if not sending.cancelled():
            sending.result()

    async def get_response_async(self, request):
        # Not on this handler's own path (`respond`), but Django's callers of it get the
        # synchronous chain in one hop rather than awaiting a chain that is not a coroutine.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_sync_chain_asgi_application() -> SyncChainASGIHandler:
    """`django.core.asgi.get_asgi_application` with this handler."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
