"""Database health beyond query counts: the connection pool's use and slow queries.

- `PoolCollector` reads psycopg's pool statistics at scrape time (`spotdesk_db_pool_*`):
  how many connections are open, idle and waited for, and the running totals of
  requests, waits and errors. Only databases configured with a pool (production) have
  these series.
- `watch_slow_queries` wraps every query of a connection: one slower than
  `DB_SLOW_QUERY_MS` is logged (`spotdesk.db.slow`: alias, milliseconds and the SQL
  with its placeholders, never its parameters, which can hold secrets) and counted in
  `spotdesk_db_slow_queries_total`.
"""

from __future__ import annotations

import logging
import time

from django.db import connections
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from . import conf
from .metrics import SLOW_QUERIES

logger = logging.getLogger("spotdesk.db.slow")

SQL_LOGGED_CHARS = 2000

# psycopg_pool's get_stats() keys: point-in-time values, then running totals.
POOL_GAUGES = {
    "pool_min": "Connections the pool keeps open at least.",
    "pool_max": "Connections the pool may open at most.",
    "pool_size": "Connections open now (idle, in use or being prepared).",
    "pool_available": "Idle connections ready to hand out now.",
    "requests_waiting": "Requests waiting for a connection now.",
}
POOL_COUNTERS = {
    "requests_num": "Connections asked of the pool.",
    "requests_queued": "Requests that had to wait for a connection.",
    "requests_wait_ms": "Milliseconds spent waiting for a connection, all requests.",
    "requests_errors": "Requests that got no connection (timeout or error).",
    "connections_num": "Connections opened to the server.",
    "connections_errors": "Failed attempts to open a connection.",
    "connections_lost": "Connections found broken and discarded.",
    "returns_bad": "Connections returned in a bad state.",
    "usage_ms": "Milliseconds connections were lent out, all requests.",
}


def pools() -> dict[str, object]:
    """The psycopg pool of every configured database that has one."""
    found = {}
    for alias in connections.settings:
        wrapper = connections[alias]
        if wrapper.vendor != "postgresql" or not wrapper.settings_dict["OPTIONS"].get("pool"):
            continue
        found[alias] = wrapper.pool
    return found


def _pool_families() -> dict[str, GaugeMetricFamily | CounterMetricFamily]:
    """One empty family per statistic, keyed by psycopg's name for it."""
    families = {key: GaugeMetricFamily(f"spotdesk_db_{key}", text, labels=["alias"])
                for key, text in POOL_GAUGES.items()}  # fmt: skip
    families.update((key, CounterMetricFamily(f"spotdesk_db_{key}", text, labels=["alias"]))
                    for key, text in POOL_COUNTERS.items())  # fmt: skip
    return families


class PoolCollector(Collector):
    def collect(self):
        families = _pool_families()
        for alias, pool in pools().items():
            stats = pool.get_stats()
            for key, family in families.items():
                # A total psycopg has not counted yet is absent from its stats: zero.
                family.add_metric([alias], float(stats.get(key, 0)))
        yield from families.values()

    def describe(self):
        # Describing without collecting: registration opens no pool.
        return list(_pool_families().values())


class SlowQueryWatch:
    """An execute wrapper (one per connection wrapper) that logs slow queries."""

    def __init__(self, alias: str):
        self.alias = alias

    def __call__(self, execute, sql, params, many, context):
        threshold = conf.slow_query_ms()
        if not threshold:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms >= threshold:
                SLOW_QUERIES.labels(alias=self.alias).inc()
                logger.warning(
                    "slow query: %.0f ms on %s",
                    elapsed_ms,
                    self.alias,
                    extra={
                        "alias": self.alias,
                        "duration_ms": round(elapsed_ms, 1),
                        "many": many,
                        "sql": str(sql)[:SQL_LOGGED_CHARS],
                    },
                )


def watch_slow_queries(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: wrap the connection's queries once (the wrapper
    outlives reconnections, so the signal of a reconnection adds nothing)."""
    if not any(isinstance(w, SlowQueryWatch) for w in connection.execute_wrappers):
        connection.execute_wrappers.append(SlowQueryWatch(connection.alias))
