"""Readiness of this process only: its own database and Redis, each time-boxed.

Never other processes or the exchange: a dead worker or a Binance outage must not
take the admin and the kill switch offline.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from apps.core.redaction import redact_text
from apps.core.redis import get_redis

from .metrics import READINESS_CHECK_FAILURES, READINESS_CHECK_SECONDS

# A shared pool: a hung check keeps its thread, but never the request.
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    duration_ms: float
    error: str = ""

    def as_dict(self) -> dict:
        data = {"status": "ok" if self.ok else "failed", "duration_ms": round(self.duration_ms, 1)}
        if self.error:
            data["error"] = self.error
        return data


def _check_database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # The check runs in a pool thread; don't keep a connection per thread open.
        connection.close()


def _check_redis() -> None:
    if not get_redis(timeout=settings.REDIS_HEALTH_TIMEOUT).ping():
        raise ConnectionError("PING was not answered")


CHECKS = {"database": _check_database, "redis": _check_redis}


def _timed(name: str, check) -> CheckResult:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return CheckResult(name, False, (time.perf_counter() - started) * 1000, _describe(exc))
    return CheckResult(name, True, (time.perf_counter() - started) * 1000)


def _describe(exc: Exception) -> str:
    # Class name and first line only: connection strings may carry passwords.
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return redact_text(f"{type(exc).__name__}: {first_line}")[:200]


def run_readiness_checks(timeout: float | None = None) -> list[CheckResult]:
    timeout = timeout or getattr(settings, "READINESS_TIMEOUT", 2.0)
    futures = {name: _POOL.submit(_timed, name, check) for name, check in CHECKS.items()}
    deadline = time.monotonic() + timeout
    results = []
    for name, future in futures.items():
        try:
            result = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            result = CheckResult(name, False, timeout * 1000, f"timed out after {timeout:g}s")
        READINESS_CHECK_SECONDS.labels(check=name).observe(result.duration_ms / 1000)
        if not result.ok:
            READINESS_CHECK_FAILURES.labels(check=name).inc()
        results.append(result)
    return results
