"""Every index on the large tables is justified, and its product query can still use it.

The catalogue is bench/explain_indexes.py's `USES` (index -> the product query that
needs it); bench/explain_indexes.py prints the EXPLAIN section docs/performance.md keeps
under `SECTION_HEADING`. A new index without an entry and a mention there, or a changed
query that can no longer use its index, fails here.
"""

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parents[2]
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"


def _load_catalogue():
    spec = importlib.util.spec_from_file_location(
        "explain_indexes", ROOT / "bench" / "explain_indexes.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


catalogue = _load_catalogue()
pytestmark = pytest.mark.django_db


def _section() -> str:
    text = PERFORMANCE_DOC.read_text(encoding="utf-8")
    heading = catalogue.SECTION_HEADING
    start = text.find(heading + "\n")
    assert start >= 0, f"docs/performance.md has no section {heading!r}"
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else len(text)]


def _hide_other_indexes(use) -> None:
    """Drop every other index of the table (inside the test's transaction), so the plan
    can only choose between this index and a sequential scan."""
    for name, table in catalogue.indexes_of_large_tables(connection).items():
        if table == use.table and name != use.index:
            catalogue.drop_index(connection, table, name)


def test_every_index_of_the_large_tables_has_a_product_query():
    present = catalogue.indexes_of_large_tables(connection)
    catalogued = {use.index for use in catalogue.USES}

    unjustified = sorted(
        f"{name} ({table})" for name, table in present.items() if name not in catalogued
    )
    stale = sorted(catalogued - set(present))

    assert not unjustified, (
        f"indexes without a product query in bench/explain_indexes.py USES: {unjustified}; "
        "justify each with its query (and rerun the bench for docs/performance.md) or drop it"
    )
    assert not stale, f"USES names indexes the database no longer has: {stale}"


def test_every_index_is_named_in_the_performance_section():
    named = set(re.findall(r"`([A-Za-z0-9_]+)`", _section()))
    present = catalogue.indexes_of_large_tables(connection)

    missing = sorted(name for name in present if name not in named)

    assert not missing, (
        f"docs/performance.md's {catalogue.SECTION_HEADING!r} does not justify {missing}: "
        "run .venv/bin/python bench/explain_indexes.py and merge its section"
    )


def test_dropped_indexes_stay_dropped():
    present = catalogue.indexes_of_large_tables(connection)

    assert not set(catalogue.DROPPED) & set(present)


@pytest.mark.parametrize("use", catalogue.USES, ids=lambda use: use.index)
def test_the_planner_can_use_the_index_for_its_product_query(use):
    with transaction.atomic():
        _hide_other_indexes(use)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        sql = catalogue.captured_sql(use, catalogue.Sample())
        plan = catalogue.explain(sql, analyze=False)
        family = catalogue.index_family(connection, use.index)
        transaction.set_rollback(True)

    used = catalogue.indexes_in(plan)
    assert used & family, f"{use.code}: the plan uses {sorted(used) or 'no index'}, not {use.index}"


@pytest.mark.parametrize(
    "use", [use for use in catalogue.USES if use.constraint], ids=lambda use: use.index
)
def test_a_constraint_justification_names_a_unique_index(use):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.indisunique, x.indisprimary FROM pg_index x "
            "WHERE x.indexrelid = %s::regclass",
            [use.index],
        )
        unique, primary = cursor.fetchone()

    assert unique
    assert primary == (use.constraint == catalogue.PK)
