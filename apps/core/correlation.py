"""Correlation ids: one id per request or task, carried by every log line it causes."""

import re
import uuid

import structlog

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_correlation_id(candidate: str | None = None) -> str:
    """Accept a well-formed incoming id (from a proxy), otherwise make a new one."""
    if candidate and _VALID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def bind(correlation_id: str, **extra) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id, **extra)


def clear() -> None:
    structlog.contextvars.clear_contextvars()


def current() -> str | None:
    return structlog.contextvars.get_contextvars().get("correlation_id")
