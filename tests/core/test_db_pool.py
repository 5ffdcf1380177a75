"""The database pool checks a connection before lending it only when it sat idle
(apps/core/db_pool.py): no extra round trip for a connection handed back moments ago,
and a cut connection that sat idle is replaced before anyone gets it."""

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from apps.core import db_pool

URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class ReturnsNoted(ConnectionPool):
    """A pool that notes returns as the backend does when Django hands one back."""

    def putconn(self, conn):
        db_pool.mark_returned(conn)
        super().putconn(conn)


@pytest.fixture
def pool():
    with ReturnsNoted(
        URL, min_size=1, max_size=1, check=db_pool.check_after_idle, timeout=5
    ) as opened:
        yield opened


def _cut(connection) -> None:
    """End the connection's server process, as a database restart would."""
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.info.backend_pid])


def test_a_connection_handed_back_just_now_is_lent_without_a_check(pool):
    with pool.connection() as connection:
        connection.execute("SELECT 1")
        first = connection
    _cut(first)
    # No check: the same connection comes back out (a check would have replaced it).
    with pool.connection() as again:
        assert again is first
        with pytest.raises(psycopg.OperationalError):
            again.execute("SELECT 1")
    # Handed back broken, the pool drops it; the next one works.
    with pool.connection() as fresh:
        assert fresh is not first
        assert fresh.execute("SELECT 1").fetchone() == (1,)


def test_a_connection_that_sat_idle_is_checked_and_replaced_when_cut(pool, monkeypatch):
    with pool.connection() as connection:
        connection.execute("SELECT 1")
        first = connection
    _cut(first)
    later = getattr(first, db_pool._RETURNED_AT) + db_pool.CHECK_AFTER_IDLE_SECONDS + 1
    monkeypatch.setattr(db_pool.time, "monotonic", lambda: later)
    with pool.connection() as replaced:
        assert replaced is not first  # the check found it cut
        assert replaced.execute("SELECT 1").fetchone() == (1,)


PRODUCTION_POOL = """
import django
django.setup()
from django.db import connection
from psycopg_pool import ConnectionPool
from apps.core import db_pool
real_checks = []
psycopg_check = ConnectionPool.check_connection
ConnectionPool.check_connection = lambda conn: real_checks.append(1) or psycopg_check(conn)
def query():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    raw = connection.connection
    connection.close()  # back to the pool, its time noted
    return raw
first = query()  # a new connection: checked
print(connection.pool._check is db_pool.check_after_idle, len(real_checks))
print(query() is first, len(real_checks))  # out again at once: not checked
setattr(first, db_pool._RETURNED_AT, 0.0)  # as if it sat idle since long ago
print(query() is first, len(real_checks))  # checked before it is lent
"""


def test_production_connections_are_checked_only_after_sitting_idle(db):
    from tests.core.test_production_database import _production_env, _run

    one = {"DATABASE_POOL_MIN_SIZE": "1", "DATABASE_POOL_MAX_SIZE": "1"}
    result = _run(PRODUCTION_POOL, _production_env(**one))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-6:] == ["True", "1", "True", "1", "True", "2"]
