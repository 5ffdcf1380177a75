"""Database health (seed item 58): slow queries are logged and counted without their
parameters, on every connection, once. The pool's figures are read under the
production settings in tests/core/test_production_database.py."""

import logging

import pytest
from django.db import connection
from prometheus_client.registry import REGISTRY

from apps.monitoring.database import SlowQueryWatch

pytestmark = pytest.mark.django_db

SECRET = "never-log-this-parameter"


def slow_count() -> float:
    return REGISTRY.get_sample_value("spotdesk_db_slow_queries_total", {"alias": "default"}) or 0


def slow_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "spotdesk.db.slow"]


def test_a_slow_query_is_logged_and_counted_without_its_parameters(settings, caplog):
    settings.DB_SLOW_QUERY_MS = 50
    before = slow_count()
    with (
        caplog.at_level(logging.WARNING, logger="spotdesk.db.slow"),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_sleep(0.1), %s", [SECRET])
    [record] = slow_records(caplog)
    assert record.alias == "default"
    assert record.duration_ms >= 100
    assert "pg_sleep" in record.sql
    assert SECRET not in record.getMessage() + repr(vars(record))
    assert slow_count() == before + 1


def test_fast_queries_and_a_zero_threshold_log_nothing(settings, caplog):
    before = slow_count()
    with caplog.at_level(logging.WARNING, logger="spotdesk.db.slow"):
        settings.DB_SLOW_QUERY_MS = 1000
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        settings.DB_SLOW_QUERY_MS = 0  # the watch is off
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.05)")
    assert slow_records(caplog) == []
    assert slow_count() == before


@pytest.mark.django_db(transaction=True)
def test_each_connection_is_watched_once_across_reconnections(settings, caplog):
    settings.DB_SLOW_QUERY_MS = 30
    for _ in range(3):
        connection.close()
        connection.ensure_connection()  # a new connection: connection_created again
    watches = [w for w in connection.execute_wrappers if isinstance(w, SlowQueryWatch)]
    assert len(watches) == 1
    with (
        caplog.at_level(logging.WARNING, logger="spotdesk.db.slow"),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_sleep(0.05)")
    assert len(slow_records(caplog)) == 1  # not once per wrapper
