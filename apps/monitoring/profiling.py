"""On-demand profiling of a running process: every thread, for a bounded time.

pyinstrument profiles the thread that starts it; a worker's work runs in other threads
(the cycle's pool, Channels/asgiref executors) or in pool children. So this module
samples every thread's Python stack from ``sys._current_frames()`` at a fixed interval,
builds a pyinstrument ``Session`` from the samples (one root per thread) and renders it
with pyinstrument's own renderers (text, HTML, speedscope).

How a request reaches a process and how its result comes back:
- a request is a small JSON document (``ProfileRequest``); a Celery worker receives it
  through the ``spotdesk_profile`` remote-control command (celery_worker/control.py),
  any other process (streams, prefork children) through a Redis key that its
  ``ProfileListener`` thread polls;
- the process samples in a background thread (never the worker's consumer thread) and
  stores the rendered result in Redis under the request id, for ``result_ttl`` seconds;
- ``manage.py profile_process`` sends the request, waits for the results and writes them.

Bounds: at most ``MAX_SECONDS`` per profile, one profile at a time per process, an
interval of at least ``MIN_INTERVAL`` and output cut at ``max_bytes``. Only code
locations are recorded (no local variables), so a profile holds no secrets.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_SECONDS = 300.0
MIN_INTERVAL = 0.001
DEFAULT_INTERVAL = 0.005
DEFAULT_MAX_BYTES = 5_000_000
MAX_BYTES = 20_000_000
FORMATS = ("text", "html", "speedscope")
RESULT_TTL = 3600
LISTENER_TTL = 15  # seconds a listener stays registered without polling
POLL_SECONDS = 1.0
KEY_PREFIX = "spotdesk:profile:"
TRUNCATION_NOTE = "\n[profile cut at {limit} bytes]\n"


# --- requests ------------------------------------------------------------------------
@dataclass(frozen=True)
class ProfileRequest:
    request_id: str
    seconds: float
    interval: float = DEFAULT_INTERVAL
    fmt: str = "text"
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def new(cls, **fields) -> ProfileRequest:
        return cls(request_id=uuid.uuid4().hex, **fields).validated()

    @classmethod
    def from_dict(cls, data: dict) -> ProfileRequest:
        names = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in names}).validated()

    def validated(self) -> ProfileRequest:
        """The request itself, or ValueError naming the field and the rule."""
        if not (isinstance(self.request_id, str) and self.request_id.isalnum()):
            raise ValueError("request_id must be letters and digits")
        if not 0 < float(self.seconds) <= MAX_SECONDS:
            raise ValueError(f"seconds must be more than 0 and at most {MAX_SECONDS:g}")
        if not MIN_INTERVAL <= float(self.interval) <= 1.0:
            raise ValueError(f"interval must be between {MIN_INTERVAL:g} and 1 second")
        if self.fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(FORMATS)}")
        if not 1_000 <= int(self.max_bytes) <= MAX_BYTES:
            raise ValueError(f"max_bytes must be between 1000 and {MAX_BYTES}")
        return self

    def as_dict(self) -> dict:
        return asdict(self)


# --- sampling ------------------------------------------------------------------------
def _identifier(code, cache: dict) -> str:
    # pyinstrument's frame identifier: function, file and first line, NUL-separated.
    found = cache.get(code)
    if found is None:
        found = cache[code] = f"{code.co_name}\x00{code.co_filename}\x00{code.co_firstlineno}"
    return found


def _stack(frame, cache: dict) -> list[str]:
    stack = []
    while frame is not None:
        stack.append(_identifier(frame.f_code, cache))
        frame = frame.f_back
    stack.reverse()
    return stack


PROCESS_ROOT = "[process]\x00<process>\x000"


def thread_root(name: str) -> str:
    """A synthetic outermost frame per thread, so each thread is its own subtree."""
    return f"[thread] {name}\x00<thread>\x000"


@dataclass
class Samples:
    records: list[tuple[list[str], float]]
    started: float  # wall clock
    duration: float
    cpu_time: float
    count: int
    threads: dict[str, int]  # thread name -> samples
    min_interval: float
    max_interval: float


def sample_threads(
    seconds: float,
    interval: float = DEFAULT_INTERVAL,
    *,
    stop: threading.Event | None = None,
    exclude: Iterable[int] = (),
) -> Samples:
    """Sample every thread but the caller (and ``exclude``) for ``seconds``.

    Each sample weighs the wall time since the previous one, so a late wake-up (the GIL
    held by a busy thread) still adds up to the real duration."""
    me = threading.get_ident()
    skip = {me, *exclude}
    cache: dict = {}
    merged: dict[tuple[str, ...], float] = {}
    per_thread: dict[str, int] = {}
    names: dict[int, str] = {}
    stop = stop or threading.Event()
    started_wall, started = time.time(), time.perf_counter()
    cpu_started = time.process_time()
    deadline = started + seconds
    previous = started
    gaps = []
    count = 0
    while not stop.is_set():
        now = time.perf_counter()
        if now >= deadline:
            break
        weight = now - previous
        previous = now
        if count % 50 == 0:  # threads come and go; names are cheap to refresh
            names = {thread.ident: thread.name for thread in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if ident in skip:
                continue
            name = names.get(ident, f"thread-{ident}")
            stack = (PROCESS_ROOT, thread_root(name), *_stack(frame, cache))
            merged[stack] = merged.get(stack, 0.0) + (weight if count else interval)
            per_thread[name] = per_thread.get(name, 0) + 1
        if count:
            gaps.append(weight)
        count += 1
        stop.wait(max(0.0, min(interval, deadline - time.perf_counter())))
    return Samples(
        records=[(list(stack), spent) for stack, spent in merged.items()],
        started=started_wall,
        duration=time.perf_counter() - started,
        cpu_time=time.process_time() - cpu_started,
        count=count,
        threads=per_thread,
        min_interval=min(gaps, default=interval),
        max_interval=max(gaps, default=interval),
    )


def to_session(samples: Samples, description: str):
    from pyinstrument.session import Session

    return Session(
        frame_records=samples.records,
        start_time=samples.started,
        duration=samples.duration,
        min_interval=samples.min_interval,
        max_interval=samples.max_interval,
        sample_count=samples.count,
        start_call_stack=[PROCESS_ROOT],
        target_description=description,
        cpu_time=samples.cpu_time,
        sys_path=list(sys.path),
        sys_prefixes=Session.current_sys_prefixes(),
    )


def render(session, fmt: str) -> str:
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer, SpeedscopeRenderer

    if fmt == "html":
        return HTMLRenderer().render(session)
    if fmt == "speedscope":
        return SpeedscopeRenderer().render(session)
    # The whole tree (show_all) would be unbounded; the default hides frames under 1%.
    return ConsoleRenderer(unicode=False, color=False, time="percent_of_total").render(session)


def bound(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8, with a note when cut."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    note = TRUNCATION_NOTE.format(limit=max_bytes)
    head = data[: max_bytes - len(note.encode())].decode(errors="ignore")
    return head + note


def process_name() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def run_profile(request: ProfileRequest, *, stop: threading.Event | None = None) -> dict:
    """Profile this process as ``request`` asks; the result document (JSON-ready)."""
    samples = sample_threads(request.seconds, request.interval, stop=stop)
    session = to_session(samples, f"spotdesk {process_name()}")
    output = bound(render(session, request.fmt), request.max_bytes)
    return {
        "request_id": request.request_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "fmt": request.fmt,
        "seconds": round(samples.duration, 3),
        "samples": samples.count,
        "threads": samples.threads,
        "cpu_seconds": round(samples.cpu_time, 3),
        "output": output,
    }


# --- one profile at a time per process ----------------------------------------------
_running = threading.Lock()


def start_background(
    request: ProfileRequest, deliver: Callable[[dict], None]
) -> threading.Thread | None:
    """Profile in a daemon thread and ``deliver`` the result; None if one already runs."""
    if not _running.acquire(blocking=False):
        return None

    def work() -> None:
        try:
            result = run_profile(request)
        except Exception as exc:  # the operator must hear about it rather than wait
            logger.exception("profile %s failed", request.request_id)
            result = {"request_id": request.request_id, "pid": os.getpid(), "error": str(exc)}
        finally:
            _running.release()
        deliver(result)

    thread = threading.Thread(target=work, name="spotdesk-profiler", daemon=True)
    thread.start()
    return thread


# --- Redis protocol ------------------------------------------------------------------
def listener_key(name: str) -> str:
    return f"{KEY_PREFIX}listener:{name}"


def request_key(name: str) -> str:
    return f"{KEY_PREFIX}request:{name}"


def result_key(result_id: str) -> str:
    return f"{KEY_PREFIX}result:{result_id}"


def child_listener_name(host: str, pid: int) -> str:
    """The listener of one prefork child, which its worker's control command addresses."""
    return f"process:{host}:{pid}"


def post_request(redis, name: str, request: ProfileRequest) -> None:
    # Expires if nobody takes it: a late listener must not profile long after the ask.
    redis.set(request_key(name), json.dumps(request.as_dict()), ex=LISTENER_TTL * 2)


def take_request(redis, name: str) -> ProfileRequest | None:
    raw = redis.getdel(request_key(name))
    if raw is None:
        return None
    return ProfileRequest.from_dict(json.loads(raw))


def store_result(redis, result_id: str, result: dict, ttl: int = RESULT_TTL) -> None:
    redis.set(result_key(result_id), json.dumps(result), ex=ttl)


def fetch_result(redis, result_id: str) -> dict | None:
    raw = redis.get(result_key(result_id))
    return None if raw is None else json.loads(raw)


def live_listeners(redis) -> dict[str, dict]:
    """Registered listeners (streams processes, prefork children): name -> details."""
    prefix = listener_key("")
    found = {}
    for key in redis.scan_iter(f"{prefix}*"):
        raw = redis.get(key)
        if raw is not None:
            found[key[len(prefix) :]] = json.loads(raw)
    return found


def child_result_id(request_id: str, pid: int) -> str:
    return f"{request_id}-{pid}"


class ProfileListener:
    """A daemon thread that registers ``name`` in Redis and profiles on request.

    One GETDEL and one SET per ``poll`` seconds while idle; the profile runs in this
    thread, which leaves itself out of the samples."""

    def __init__(self, name: str, redis_factory: Callable, *, kind: str, poll=POLL_SECONDS):
        self.name, self.kind, self.poll = name, kind, poll
        self._redis_factory = redis_factory
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"spotdesk-profile-listener-{kind}", daemon=True
        )

    def start(self) -> ProfileListener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        try:
            self._redis_factory().delete(listener_key(self.name))
        except Exception:  # Redis gone at shutdown: the registration expires by itself
            logger.debug("listener %s not unregistered", self.name, exc_info=True)

    def _register(self, redis) -> None:
        details = {"pid": os.getpid(), "host": socket.gethostname(), "kind": self.kind}
        redis.set(listener_key(self.name), json.dumps(details), ex=LISTENER_TTL)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                redis = self._redis_factory()
                self._register(redis)
                request = take_request(redis, self.name)
                if request is not None:
                    self._serve(redis, request)
            except Exception:  # never let a profiler take the process down
                logger.warning("profile listener %s: poll failed", self.name, exc_info=True)
            self._stop.wait(self.poll)

    def _serve(self, redis, request: ProfileRequest) -> None:
        result_id = child_result_id(request.request_id, os.getpid())
        if not _running.acquire(blocking=False):
            store_result(redis, result_id, {"pid": os.getpid(), "error": "busy"})
            return
        try:
            result = run_profile(request, stop=self._stop)
        except Exception as exc:
            logger.exception("profile %s failed", request.request_id)
            result = {"request_id": request.request_id, "pid": os.getpid(), "error": str(exc)}
        finally:
            _running.release()
        store_result(redis, result_id, result)


# --- where the time goes, by kind of code (the bench profiles' summary) ---------------
CATEGORIES = (
    ("psycopg", "PostgreSQL driver (psycopg, incl. waiting for the server)"),
    ("/django/db/", "Django ORM (query building, model instances)"),
    ("/redis/", "Redis client (incl. waiting for the server)"),
    ("/urllib3/", "HTTP to the exchange (requests/urllib3, incl. waiting)"),
    ("/requests/", "HTTP to the exchange (requests/urllib3, incl. waiting)"),
    ("/binance/", "HTTP to the exchange (requests/urllib3, incl. waiting)"),
    ("/structlog/", "logging"),
    ("/logging/", "logging"),
    ("/prometheus_client/", "metrics"),
    ("/celery/", "Celery/kombu (publishing tasks)"),
    ("/kombu/", "Celery/kombu (publishing tasks)"),
    ("/asgiref/", "asyncio / asgiref plumbing"),
    ("/asyncio/", "asyncio / asgiref plumbing"),
    ("/websockets/", "WebSocket client"),
    ("/aiohttp/", "WebSocket client"),
    ("/numpy/", "numpy / TA-Lib"),
    ("/talib/", "numpy / TA-Lib"),
)
SPOTDESK_CODE = "Spotdesk code"
IDLE = "idle (a thread waiting for work or for I/O events)"
ASYNCIO = "asyncio / asgiref plumbing"


def _idle(function: str, path: str, caller_label: str) -> bool:
    """Where an idle thread's time shows up: a pool thread waiting on its queue, an
    event loop in select() (a select() under a database driver is a wait for a reply)."""
    if function == "_worker" and path.endswith("concurrent/futures/thread.py"):
        return True
    return function == "select" and path.endswith("selectors.py") and caller_label == ASYNCIO


_PROJECT_APPS = str(Path(__file__).resolve().parents[1]) + "/"


def category_of(file_path: str) -> str:
    path = (file_path or "").replace("\\", "/")
    if path == IDLE:
        return IDLE
    if path.startswith(_PROJECT_APPS):
        return SPOTDESK_CODE
    for marker, label in CATEGORIES:
        if marker in path:
            return label
    return "other (standard library, other packages)"


def self_times(frame) -> Iterable[tuple[str, float]]:
    """(category, self seconds) for every frame under a pyinstrument ``Frame``.

    Standard-library frames take the category of their nearest caller that has one
    (a socket read under the Redis client is Redis time); the frames where idle threads
    wait count as IDLE."""
    other = category_of("")
    pending = [(frame, other, False)]
    while pending:
        node, inherited, waiting = pending.pop()
        path = (node.file_path or "").replace("\\", "/")
        label = category_of(path) if not node.is_synthetic else inherited
        if label == other:
            label = inherited
        # A built-in call (epoll.poll, SimpleQueue.get) waits for its idle caller.
        idle = _idle(node.function, path, inherited) or (waiting and path.startswith("<"))
        own = node.total_self_time
        if not node.is_synthetic and own:
            yield (IDLE if idle else label), own
        pending.extend((child, label, idle) for child in node.children)


def breakdown(items: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """Seconds per category, largest first."""
    totals: dict[str, float] = {}
    for label, seconds in items:
        totals[label] = totals.get(label, 0.0) + seconds
    return sorted(totals.items(), key=lambda item: -item[1])


# --- the operator's side (manage.py profile_process) ----------------------------------
def format_for_path(path: str | None) -> str:
    """The output format an ``--out`` file name implies (text unless told)."""
    name = (path or "").lower()
    if name.endswith((".html", ".htm")):
        return "html"
    if name.endswith(".json"):
        return "speedscope"
    return "text"


def streams_listener_name(environment: str, shard: int, host: str | None = None) -> str:
    return f"streams-{environment}-{shard}@{host or socket.gethostname()}"


def output_path(out: str, result_id: str, first_id: str, pid: int) -> str:
    """The parent's (or the listener's) profile goes to ``out``; each prefork child's to
    ``out`` with its pid before the extension."""
    if result_id == first_id:
        return out
    stem, dot, extension = out.rpartition(".")
    if not dot or "/" in extension:
        return f"{out}.{pid}"
    return f"{stem}.{pid}.{extension}"


def wait_for_results(
    redis, result_ids: list[str], timeout: float, *, poll: float = 0.5, sleep=time.sleep
) -> dict[str, dict | None]:
    """Every result that arrived within ``timeout`` (None for the missing ones); each
    is deleted once read, so megabytes of profile do not linger in Redis."""
    found: dict[str, dict | None] = dict.fromkeys(result_ids)
    deadline = time.monotonic() + timeout
    while True:
        for result_id in result_ids:
            if found[result_id] is None:
                found[result_id] = fetch_result(redis, result_id)
                if found[result_id] is not None:
                    redis.delete(result_key(result_id))
        if all(found.values()) or time.monotonic() >= deadline:
            return found
        sleep(poll)
