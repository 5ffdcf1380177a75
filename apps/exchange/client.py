"""python-binance's Client, pointed at one account's URLs, with per-response capture.

Binance's URLs are class attributes on python-binance's clients; `SpotClient` sets
them on the instance instead, so two accounts in one process (live and paper, say)
never see each other's URLs. `recvWindow` is set per account (python-binance
forces 10000 ms otherwise).

python-binance stores the last response on the shared `client.response`, which
races when requests run concurrently. A requests response hook copies each
response's status and rate-limit headers into the `ResponseCapture` that the calling
context installed, so each caller reads its own response's headers.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from dataclasses import dataclass, field

from binance.client import Client
from binance.exceptions import BinanceAPIException

from .credentials import Credentials

_current_capture: contextvars.ContextVar[ResponseCapture | None] = contextvars.ContextVar(
    "exchange_response_capture", default=None
)


@dataclass
class ResponseCapture:
    """What one request's response said about limits and time (headers only)."""

    status: int | None = None
    used_weights: dict[str, int] = field(default_factory=dict)  # {"1M": 120}
    order_counts: dict[str, int] = field(default_factory=dict)  # {"10S": 3, "1D": 40}
    retry_after: float | None = None
    elapsed_seconds: float | None = None

    def record(self, response) -> None:
        self.status = response.status_code
        self.elapsed_seconds = response.elapsed.total_seconds()
        headers = response.headers
        for name, value in headers.items():
            lowered = name.lower()
            if lowered.startswith("x-mbx-used-weight-"):
                number = _int(value)
                if number is not None:
                    self.used_weights[lowered.removeprefix("x-mbx-used-weight-").upper()] = number
            elif lowered.startswith("x-mbx-order-count-"):
                number = _int(value)
                if number is not None:
                    self.order_counts[lowered.removeprefix("x-mbx-order-count-").upper()] = number
            elif lowered == "retry-after":
                self.retry_after = _float(value)


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _capture_hook(response, *args, **kwargs):
    capture = _current_capture.get()
    if capture is not None:
        capture.record(response)
    return response


@contextlib.contextmanager
def capturing():
    """Install a fresh capture for the requests made inside this block."""
    capture = ResponseCapture()
    token = _current_capture.set(capture)
    try:
        yield capture
    finally:
        _current_capture.reset(token)


class SpotClient(Client):
    """A python-binance Client bound to one REST base URL and one set of credentials."""

    def __init__(
        self,
        *,
        rest_base: str,
        credentials: Credentials | None = None,
        recv_window_ms: int = 5000,
        timeout: float = 10.0,
    ):
        super().__init__(
            api_key=credentials.api_key if credentials else None,
            api_secret=credentials.api_secret if credentials else None,
            private_key=credentials.private_key_pem if credentials else None,
            ping=False,
        )
        # Instance attributes shadow the class-level URLs: nothing shared between accounts.
        self.testnet = False
        self.demo = False
        self.point_at(rest_base)
        self.REQUEST_RECVWINDOW = int(recv_window_ms)
        self.REQUEST_TIMEOUT = float(timeout)
        self.session.hooks["response"].append(_capture_hook)

    @staticmethod
    def _handle_response(response):
        # python-binance reads an error body's code and msg with dict.get: a body that is
        # JSON but not an object (null, a list, a number) would escape as AttributeError.
        if not 200 <= response.status_code < 300 and not _is_json_object(response.text):
            raise BinanceAPIException(response, response.status_code, "")
        return Client._handle_response(response)

    def point_at(self, rest_base: str) -> None:
        rest_base = rest_base.rstrip("/")
        self.rest_base = rest_base
        self.API_URL = rest_base + "/api"
        self.MARGIN_API_URL = rest_base + "/sapi"

    def __repr__(self) -> str:
        return f"SpotClient(rest_base={self.rest_base!r})"
