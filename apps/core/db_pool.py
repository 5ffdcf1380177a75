"""When the database pool checks a connection before lending it: after it sat idle.

psycopg's own check (what Django installs with CONN_HEALTH_CHECKS) sends an empty
query every time a connection leaves the pool: one more round trip on every request
and task, most of them taking a connection handed back milliseconds earlier. A
connection that was just in use is as good as the last query it ran; one that sat in
the pool may have been cut (a database restart, a proxy's idle timeout), so it is
checked, and replaced by the pool if broken. Installed by the database backend
(apps/core/pooled_postgresql).
"""

from __future__ import annotations

import time

from psycopg_pool import ConnectionPool

# A connection idle longer than this is checked before it is lent again.
CHECK_AFTER_IDLE_SECONDS = 2.0
_RETURNED_AT = "_spotdesk_returned_at"


def mark_returned(connection) -> None:
    """Remember when the connection went back to the pool."""
    setattr(connection, _RETURNED_AT, time.monotonic())


def check_after_idle(connection) -> None:
    """The pool's `check` callback: psycopg's check, for a new connection or one that
    sat idle; raises (and the pool replaces it) when the connection is broken."""
    returned = getattr(connection, _RETURNED_AT, None)
    if returned is None or time.monotonic() - returned > CHECK_AFTER_IDLE_SECONDS:
        ConnectionPool.check_connection(connection)
