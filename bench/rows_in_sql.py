"""A page of a large list, rendered by PostgreSQL (apps/api/serializers/rows_in_sql.py)
against fetched as model instances and rendered by the row serializer
(apps/api/serializers/rows.py), on the load benchmark's million orders, in one process.

Run: .venv/bin/python bench/rows_in_sql.py [--pages 300] [--page-size 50]
     (the data set of bench/api_load.py, seeded on the first run of either)

Each page is what a list request does after its filters: the account's newest rows of
`trading_order` (or `trading_decision` over the last week), 51 of them as the cursor asks,
turned into the response's bytes. Both paths run the same filtered, ordered and sliced
query; the one moves the rendering into the query. Since that moves work into the
database server, the figure is the CPU of both sides per page: this process
(`time.process_time`) and the PostgreSQL backend serving it (its /proc counters through
psutil), plus the wall time. Pages alternate between the two paths.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from _servers import ensure_database, production_env
from report import ratio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE = "spotdesk_bench_load"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")


def setup() -> None:
    env = production_env(DATABASE, REDIS_URL)
    ensure_database(DATABASE, env)
    os.environ.update(env)
    os.environ["SPOTDESK_CHECKS_AT_START"] = "false"
    # Seeding (on a first run) writes accounts with made-up keys: no exchange to ask.
    os.environ["EXCHANGE_VERIFY_KEYS_ON_SAVE"] = "false"
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--page-size", type=int, default=50)
    args = parser.parse_args()
    setup()
    import _seed_load
    from django.db import connection

    if not _seed_load.seeded():
        print(f"seeded with COPY: {_seed_load.seed(_seed_load.tenants())}")

    from apps.api.renderers import FastJSONRenderer
    from apps.api.serializers import rows_in_sql
    from apps.api.serializers.trading import DecisionSerializer, OrderSerializer
    from apps.trading.models import Decision, Order

    accounts = list(Order.objects.values_list("account_id", flat=True).distinct()[:200])
    week = datetime.now(UTC) - timedelta(days=7)
    renderer = FastJSONRenderer()
    zone = rows_in_sql.active_zone_name()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])

    size = args.page_size + 1  # the cursor asks one row more than the page
    for label, serializer_class, page_of in (
        ("orders", OrderSerializer, lambda a: Order.objects.filter(account_id=a).order_by("-id")),
        (
            "decisions",
            DecisionSerializer,
            lambda a: Decision.objects.filter(account_id=a, created_at__gte=week).order_by(
                "-created_at"
            ),
        ),
    ):
        plan = rows_in_sql.plan_for(serializer_class)

        def in_sql(account, plan=plan, page_of=page_of):
            rows = list(plan.select(page_of(account), ["id"], zone)[:size])
            return renderer.render({"results": plan.fragments(rows)})

        def in_python(account, serializer_class=serializer_class, page_of=page_of):
            rows = list(page_of(account)[:size])
            return renderer.render({"results": serializer_class(rows, many=True).data})

        rng = random.Random(43)
        picks = [rng.choice(accounts) for _ in range(args.pages)]
        assert _same_documents(in_sql(picks[0]), in_python(picks[0])), "the paths must agree"
        figures = {"sql": [], "python": []}
        for account in picks:
            for name, render in (("sql", in_sql), ("python", in_python)):
                figures[name].append(_costs(render, account, backend))
        report = {name: _means(values) for name, values in figures.items()}
        for name, (ours, server, wall) in report.items():
            print(
                f"{label} {name:>6}: this process {ours:.3f} ms, PostgreSQL {server:.3f} ms, "
                f"both {ours + server:.3f} ms, wall {wall:.3f} ms per page of {size}"
            )
        sql_total = report["sql"][0] + report["sql"][1]
        python_total = report["python"][0] + report["python"][1]
        ratio(f"rows_in_sql.{label}_cpu_vs_row_serializer", python_total / sql_total)
        ratio(
            f"rows_in_sql.{label}_web_cpu_vs_row_serializer", report["python"][0] / report["sql"][0]
        )


def _costs(render, account, backend) -> tuple[float, float, float]:
    server = backend.cpu_times()
    ours, wall = time.process_time(), time.perf_counter()
    render(account)
    ours, wall = time.process_time() - ours, time.perf_counter() - wall
    after = backend.cpu_times()
    server = (after.user - server.user) + (after.system - server.system)
    return ours * 1000, server * 1000, wall * 1000


def _means(values: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    # Means, not medians: the server's /proc counters tick every 10 ms, so only the
    # mean over many pages gives its per-page share.
    return tuple(statistics.fmean(v[n] for v in values) for n in range(3))


def _same_documents(left: bytes, right: bytes) -> bool:
    import json

    return json.loads(left) == json.loads(right)


if __name__ == "__main__":
    main()
