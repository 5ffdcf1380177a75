"""Overload: no database connection came free within the pool's timeout.

Under more requests than the servers can take, psycopg's pool makes a request wait for
a connection and then gives up (`PoolTimeout`, which Django wraps in an
`OperationalError`). That is not a bug in the request: the answer is 503 with
Retry-After, so clients and the proxy back off instead of retrying at once, and it is
counted (`spotdesk_requests_shed_total`) rather than reported as a crash. The API
answers in its error shape (`apps.api.errors`), pages through `server_error`.
"""

from __future__ import annotations

import sys

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults
from psycopg_pool import PoolTimeout

from .metrics import REQUESTS_SHED

RETRY_AFTER_SECONDS = 5


def is_overload(exc: BaseException | None) -> bool:
    """Whether `exc` is, or was caused by, a pool timeout (Django wraps it)."""
    for _depth in range(5):
        if exc is None:
            return False
        if isinstance(exc, PoolTimeout):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def shed(surface: str) -> None:
    REQUESTS_SHED.labels(surface=surface).inc()


def server_error(request):
    """handler500: a pool timeout is 503 with Retry-After; anything else Django's 500."""
    if not is_overload(sys.exc_info()[1]):
        return defaults.server_error(request)
    shed("page")
    response = HttpResponse(
        _("Spotdesk is overloaded. Retry in a few seconds."),
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
