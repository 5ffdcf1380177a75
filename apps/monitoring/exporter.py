"""Serving Prometheus metrics: the registry to expose, who may scrape, and a small
per-process endpoint for processes that are not the web server.

Web serves /metrics through Django (`views.metrics`). Celery workers and beat start
`start_metrics_server` from their start-up signals (celery_worker/signals.py), and the
streams process calls it the same way. With PROMETHEUS_MULTIPROC_DIR set (prefork
workers), every child process writes its samples there and the endpoint of the parent
aggregates them; without it, the process's own registry is exposed.
"""

import hmac
import os
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from prometheus_client import CollectorRegistry, ProcessCollector, exposition, multiprocess
from prometheus_client.registry import REGISTRY

from . import conf

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_state = {"server": None, "port": None}
_lock = threading.Lock()


def multiprocess_dir() -> str:
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or ""


def metrics_registry():
    """The registry to expose: this process's, or every process's in multiprocess mode
    (plus the scrape-time collectors, which no file holds)."""
    if not multiprocess_dir():
        return REGISTRY
    from .collectors import AccountRiskCollector, CeleryQueueLengthCollector

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    ProcessCollector(registry=registry)  # memory and CPU of the serving (parent) process
    registry.register(CeleryQueueLengthCollector())
    registry.register(AccountRiskCollector())
    return registry


def render(accept: str = "") -> tuple[bytes, str]:
    encoder, content_type = exposition.choose_encoder(accept or "")
    return encoder(metrics_registry()), content_type


def scrape_allowed(remote_address: str, authorization: str) -> bool:
    """A bearer token equal to METRICS_TOKEN, or an address in METRICS_ALLOWED_IPS."""
    token = getattr(settings, "METRICS_TOKEN", "")
    supplied = (authorization or "").removeprefix("Bearer ").strip()
    token_ok = bool(token) and hmac.compare_digest(supplied.encode(), token.encode())
    return token_ok or remote_address in getattr(settings, "METRICS_ALLOWED_IPS", [])


def _app(environ, start_response):
    if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    if not scrape_allowed(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_AUTHORIZATION", "")):
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"metrics need a bearer token or an allow-listed address\n"]
    try:
        body, content_type = render(environ.get("HTTP_ACCEPT", ""))
    finally:
        # The account collector queried the database from this scrape's own thread:
        # close its connection (thread-local), or every scrape would leave one open.
        from django.db import connections

        connections.close_all()
    start_response("200 OK", [("Content-Type", content_type)])
    return [body]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # scrapes every 15 s: no access log
        pass


def start_metrics_server(port: int, address: str | None = None) -> int:
    """Serve /metrics of this process on `port` (0: any free port) in a daemon thread;
    returns the bound port. Idempotent within a process."""
    with _lock:
        if _state["server"] is None:
            server = make_server(
                address or conf.metrics_bind_address(),
                port,
                _app,
                server_class=_Server,
                handler_class=_QuietHandler,
            )
            thread = threading.Thread(
                target=server.serve_forever, name="metrics-server", daemon=True
            )
            thread.start()
            _state.update(server=server, port=server.server_port)
        return _state["port"]


def start_configured_metrics_server(port: int | None) -> int | None:
    """For process start-up signals: serve metrics if configured; a port that is taken
    is logged, never fatal (the process still works, only unscraped)."""
    if port is None:
        return None
    try:
        return start_metrics_server(port)
    except OSError as exc:
        from apps.core.logging import get_logger

        get_logger(__name__).warning(
            "metrics endpoint not started", port=port, error=type(exc).__name__
        )
        return None


def stop_metrics_server() -> None:
    with _lock:
        if _state["server"] is not None:
            _state["server"].shutdown()
            _state["server"].server_close()
            _state.update(server=None, port=None)


def metrics_port() -> int | None:
    """The port this process (or the worker parent it was forked from) exports on."""
    return _state["port"]


def clear_dead_process_files() -> None:
    """At a worker's start: files of processes of an earlier run would be summed in."""
    directory = multiprocess_dir()
    if not directory:
        return
    own = f"_{os.getpid()}.db"
    for path in Path(directory).glob("*.db"):
        if not path.name.endswith(own):
            path.unlink(missing_ok=True)


def mark_process_dead(pid: int) -> None:
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)
