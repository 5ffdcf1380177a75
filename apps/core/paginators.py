"""A paginator for changelists over tables of millions of rows.

Django's paginator runs `SELECT COUNT(*)` over the listed rows on every page, which on
a large table reads all of it. On PostgreSQL this one asks the planner first: a list
the planner expects to be large gets the planner's row estimate (shown as the count),
and only a list it expects to be small is counted exactly.
"""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many rows (as the planner estimates them) an exact count is cheap.
EXACT_COUNT_BELOW = 10_000


def planner_row_estimate(queryset) -> int | None:
    """The planner's estimate of the rows `queryset` returns, or None when the database
    cannot tell (not PostgreSQL, or a query that cannot be explained)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    query = queryset.order_by().values("pk").query
    try:
        sql, params = query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # e.g. .none(): nothing to ask the planner
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # some drivers return the JSON as text
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact counts for small lists, the planner's estimate for large ones (so the last
    page numbers of a very large list are approximate)."""

    exact_count_below = EXACT_COUNT_BELOW

    @cached_property
    def count(self) -> int:
        if hasattr(self.object_list, "query"):
            estimate = planner_row_estimate(self.object_list)
            if estimate is not None and estimate >= self.exact_count_below:
                return estimate
        return super().count
