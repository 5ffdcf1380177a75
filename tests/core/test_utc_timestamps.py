"""Timestamps read by psycopg's compiled loader (apps/core/utc_timestamps.py) are the
values Django's own loader gives, and the project's connections use it."""

import datetime

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg.pq import Format

from apps.core.utc_timestamps import UtcTimestampLoader, with_utc_timestamps

URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LITERALS = [
    "2026-03-01 12:34:56.789012+05",
    "2026-03-29 01:30:00-03",
    "1970-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 23:59:59.5+14",
]


def _read(context, sql, params=()):
    with psycopg.connect(URL, context=context, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # as Django sets it with USE_TZ
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def djangos():
    return get_adapters_template(True, datetime.UTC)


def test_timestamps_equal_djangos_own_loader(djangos):
    sql = "SELECT %s::timestamptz, NULL::timestamptz"
    for literal in LITERALS:
        ours = _read(with_utc_timestamps(djangos), sql, [literal])
        theirs = _read(djangos, sql, [literal])
        assert ours == theirs, literal
        value = ours[0][0]
        assert value.tzinfo is datetime.UTC
        assert ours[0][1] is None


def test_a_timestamp_python_cannot_hold_fails_as_with_djangos_loader(djangos):
    for context in (djangos, with_utc_timestamps(djangos)):
        with pytest.raises(psycopg.DataError):
            _read(context, "SELECT 'infinity'::timestamptz")


@pytest.mark.django_db
def test_the_projects_connections_read_timestamps_with_it():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
    oid = connection.connection.adapters.types["timestamptz"].oid
    loader = connection.connection.adapters.get_loader(oid, Format.TEXT)
    assert loader is UtcTimestampLoader
    assert now.tzinfo is datetime.UTC
    # Django re-registers its own loader for a cursor when this disagrees.
    assert loader.timezone == connection.timezone
