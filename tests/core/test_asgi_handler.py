"""The web process's HTTP handler: Django's middleware chain run synchronously, the
whole request crossing once to a thread leased for it (apps/core/asgi_handler.py), with
the same answers as Django's own ASGI handler."""

import asyncio
import threading

import pytest
from asgiref import sync
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

from apps.core.asgi_handler import RequestThreads, SyncChainASGIHandler

from . import asgi_urls

pytestmark = pytest.mark.django_db(transaction=True)  # the request runs in another thread

# Values that differ from one request to the next.
_PER_REQUEST_HEADERS = {b"x-request-id", b"date", b"expires", b"set-cookie"}


def _scope(path: str, method: str = "GET") -> dict:
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }


async def _get(app, path: str, method: str = "GET", body: bytes = b"") -> tuple[int, dict, bytes]:
    communicator = ApplicationCommunicator(app, _scope(path, method))
    # The body in two messages, as a server passes a large one.
    await communicator.send_input({"type": "http.request", "body": body[:3], "more_body": True})
    await communicator.send_input({"type": "http.request", "body": body[3:]})
    start = await communicator.receive_output(10)
    received = b""
    while True:
        message = await communicator.receive_output(10)
        received += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = {k.lower(): v for k, v in start["headers"] if k.lower() not in _PER_REQUEST_HEADERS}
    return start["status"], headers, received


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
    # request_started, the chain and request_finished in one; Django's own handler
    # takes 15 on this request (14 to a thread and one back to the loop).
    assert (hops.to_thread, hops.to_loop) == (1, 0)


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/", "/healthz", "/admin/", "/no-such-page/", "/api/v1/"]
)
def test_answers_equal_djangos_own_asgi_handler(path):
    ours = asyncio.run(_get(SyncChainASGIHandler(), path))
    djangos = asyncio.run(_get(ASGIHandler(), path))
    assert ours == djangos


@override_settings(ROOT_URLCONF=asgi_urls.__name__)
@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/streamed/", "GET", b""),
        ("/echo/", "POST", b"a posted body"),
        ("/whereami/?n=%FF", "GET", b""),  # a query string that is not UTF-8
    ],
)
def test_streamed_posted_and_odd_requests_are_answered_as_django_does(path, method, body):
    ours = asyncio.run(_get(SyncChainASGIHandler(), path, method, body))
    djangos = asyncio.run(_get(ASGIHandler(), path, method, body))
    if path.startswith("/whereami/"):  # the thread differs by design
        ours, djangos = ours[:2], djangos[:2]
    assert ours == djangos
    assert ours[0] == 200
    if path == "/echo/":
        assert ours[2] == b"ydob detsop a"


class _Events:
    """The order in which request_finished fires and messages leave."""

    def __init__(self):
        self.seen: list[str] = []

    def finished(self, **_kwargs):
        self.seen.append("finished")

    async def send(self, message):
        self.seen.append(message["type"].removeprefix("http.response."))


async def _run_recording(app, path: str, events: _Events) -> None:
    given = []

    async def receive():
        if given:
            await asyncio.Event().wait()  # no disconnect
        given.append(True)
        return {"type": "http.request", "body": b""}

    await app(_scope(path), receive, events.send)


@override_settings(ROOT_URLCONF=asgi_urls.__name__)
def test_a_response_in_memory_hands_its_connection_back_before_it_is_sent():
    events = _Events()
    signals.request_finished.connect(events.finished)
    try:
        asyncio.run(_run_recording(SyncChainASGIHandler(), "/whereami/", events))
    finally:
        signals.request_finished.disconnect(events.finished)
    assert events.seen == ["finished", "start", "body"]


@override_settings(ROOT_URLCONF=asgi_urls.__name__)
def test_a_streamed_response_is_closed_only_after_its_last_part():
    events = _Events()
    signals.request_finished.connect(events.finished)
    try:
        asyncio.run(_run_recording(SyncChainASGIHandler(), "/streamed/", events))
    finally:
        signals.request_finished.disconnect(events.finished)
    assert events.seen == ["start", "body", "body", "body", "finished"]


@override_settings(ROOT_URLCONF=asgi_urls.__name__)
def test_a_client_leaving_mid_stream_gets_no_more_and_the_response_is_closed():
    entered, between_parts, closed = threading.Event(), threading.Event(), threading.Event()
    asgi_urls.stream_gate.update(entered=entered, between_parts=between_parts, closed=closed)
    finished = []

    def on_finished(**_kwargs):
        finished.append(True)

    async def scenario():
        communicator = ApplicationCommunicator(SyncChainASGIHandler(), _scope("/streamed/"))
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(10)
        assert start["status"] == 200
        assert await asyncio.to_thread(entered.wait, 5)  # the first part is made
        await communicator.send_input({"type": "http.disconnect"})
        await asyncio.sleep(0.2)
        between_parts.set()
        await communicator.wait(10)
        return [m async for m in _drain(communicator)]

    signals.request_finished.connect(on_finished)
    try:
        after_start = asyncio.run(scenario())
    finally:
        signals.request_finished.disconnect(on_finished)
        asgi_urls.stream_gate.update(entered=None, between_parts=None, closed=None)
    assert not any(b"second" in m.get("body", b"") for m in after_start)
    assert closed.is_set()
    assert finished == [True]


async def _drain(communicator):
    while not communicator.output_queue.empty():
        yield communicator.output_queue.get_nowait()


@override_settings(ROOT_URLCONF=asgi_urls.__name__)
def test_requests_one_after_another_reuse_one_thread_and_leave_no_connection_open():
    handler = SyncChainASGIHandler()

    async def twenty():
        return [await _get(handler, f"/whereami/?n={n}") for n in range(20)]

    answers = asyncio.run(twenty())
    threads = {body for _status, _headers, body in answers}
    assert [status for status, _h, _b in answers] == [200] * 20
    assert len({b.split(b",")[0] for b in threads}) == 1
    assert handler.threads.started == 1
    executor = handler.threads.lease()
    # The request's connection went back when it finished (CONN_MAX_AGE 0 in tests).
    from django.db import connections

    assert executor.submit(lambda: connections["default"].connection).result(5) is None


@override_settings(ROOT_URLCONF=asgi_urls.__name__)
def test_requests_at_the_same_time_each_have_a_thread_of_their_own():
    handler = SyncChainASGIHandler()
    # Both requests must reach request_started before either goes on: on one shared
    # thread the barrier would break.
    barrier = threading.Barrier(2, timeout=5)

    def meet(**_kwargs):
        barrier.wait()

    async def two():
        return await asyncio.gather(
            _get(handler, "/whereami/?n=1"), _get(handler, "/whereami/?n=2")
        )

    signals.request_started.connect(meet)
    try:
        first, second = asyncio.run(two())
    finally:
        signals.request_started.disconnect(meet)
    assert first[0] == second[0] == 200
    assert first[2] != second[2]
    assert handler.threads.started == 2


def test_a_thread_is_lent_again_only_once_the_work_queued_on_it_has_run():
    threads = RequestThreads(keep=4)
    executor = threads.lease()
    release = threading.Event()
    executor.submit(release.wait, 5)  # a cancelled request's call still running
    threads.give_back(executor)
    assert threads.idle() == 0
    assert threads.lease() is not executor
    release.set()
    for _ in range(100):
        if threads.idle():
            break
        threading.Event().wait(0.01)
    assert threads.idle() == 1
    assert threads.lease() is executor


def test_threads_beyond_those_kept_are_stopped_when_given_back():
    threads = RequestThreads(keep=1)
    first, second = threads.lease(), threads.lease()
    threads.give_back(first)
    threads.give_back(second)
    assert threads.idle() == 1
    assert (first._shutdown, second._shutdown) == (False, True)  # one kept, one let go
