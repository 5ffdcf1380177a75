"""The web process's HTTP handler: Django's middleware chain run synchronously, the
whole request crossing to a thread once (apps/core/asgi_handler.py), with the same
answers as Django's own ASGI handler."""

import asyncio

import pytest
from asgiref import sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from apps.core.asgi_handler import SyncChainASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)  # the request runs in another thread

# Values that differ from one request to the next.
_PER_REQUEST_HEADERS = {b"x-request-id", b"date", b"expires", b"set-cookie"}


def _scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }


async def _get(app, path: str) -> tuple[int, dict, bytes]:
    communicator = ApplicationCommunicator(app, _scope(path))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {k.lower(): v for k, v in start["headers"] if k.lower() not in _PER_REQUEST_HEADERS}
    return start["status"], headers, body


class _HopCounter:
    """Counts asgiref's hand-offs between the event loop and threads."""

    def __init__(self, monkeypatch):
        self.to_thread = self.to_loop = 0
        to_thread, to_loop = sync.SyncToAsync.__call__, sync.AsyncToSync.__call__
        counter = self

        async def counted_to_thread(self, *args, **kwargs):
            counter.to_thread += 1
            return await to_thread(self, *args, **kwargs)

        def counted_to_loop(self, *args, **kwargs):
            counter.to_loop += 1
            return to_loop(self, *args, **kwargs)

        monkeypatch.setattr(sync.SyncToAsync, "__call__", counted_to_thread)
        monkeypatch.setattr(sync.AsyncToSync, "__call__", counted_to_loop)


def test_the_web_process_serves_http_through_the_sync_chain_handler():
    from config.asgi import django_asgi_app

    assert isinstance(django_asgi_app, SyncChainASGIHandler)
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)


def test_a_request_crosses_to_a_thread_once_not_once_per_middleware(monkeypatch):
    hops = _HopCounter(monkeypatch)
    status, _, _ = asyncio.run(_get(SyncChainASGIHandler(), "/api/v1/orders/"))
    assert status == 401
    # The chain, and the request_finished signal's receivers; Django's own handler
    # takes 14 on this request (13 to a thread and one back to the loop).
    assert (hops.to_thread, hops.to_loop) == (2, 0)


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/", "/healthz", "/admin/", "/no-such-page/", "/api/v1/"]
)
def test_answers_equal_djangos_own_asgi_handler(path):
    ours = asyncio.run(_get(SyncChainASGIHandler(), path))
    djangos = asyncio.run(_get(ASGIHandler(), path))
    assert ours == djangos
