"""Who is acting from where: request metadata for the audit events a request causes.

The middleware binds the client address and user agent; services pass only the
actor, and the audit writer picks the rest up here (empty in tasks and commands).
"""

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestMeta:
    ip_address: str | None = None
    user_agent: str = ""


_EMPTY = RequestMeta()
_current: contextvars.ContextVar[RequestMeta | None] = contextvars.ContextVar(
    "audit_request_meta", default=None
)


def bind(meta: RequestMeta) -> contextvars.Token:
    return _current.set(meta)


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)


def current() -> RequestMeta:
    return _current.get() or _EMPTY


def meta_from_request(request) -> RequestMeta:
    from axes.helpers import get_client_ip_address  # the address axes locks on, proxies included

    try:
        ip = get_client_ip_address(request) or None
    except Exception:  # a malformed header must never break a request
        ip = request.META.get("REMOTE_ADDR") or None
    return RequestMeta(ip_address=ip, user_agent=request.headers.get("User-Agent", "")[:255])
