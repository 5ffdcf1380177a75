"""Monthly range partitions on PostgreSQL for the tables that grow by millions of rows
a day (candles, decisions). SQLite keeps plain tables.

`partition_by_month` turns a table Django created into a partitioned one with the
same columns, constraints and indexes: the primary key becomes (id, partition
column), as PostgreSQL requires, so unique constraints must include that column and
no foreign key may point at the table. A DEFAULT partition catches rows of months
not created yet; `ensure_month` moves them into their month when it is created.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

_PART = re.compile(r"_p(?P<year>\d{4})(?P<month>\d{2})$")


def is_postgres(connection) -> bool:
    return connection.vendor == "postgresql"


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def partition_by_month(connection, *, table: str, column: str, months_ahead: int = 3) -> None:
    """Rebuild `table` (empty, just created by a migration) as partitioned by month of
    `column`. Runs inside the migration's transaction: all or nothing."""
    if not is_postgres(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('f', 'u', 'c') ORDER BY conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x WHERE x.indrelid = "
            "%s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = x.indexrelid)",
            [table],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM {_q(table)}")  # noqa: S608 - quoted identifier
        if cursor.fetchone()[0]:
            raise RuntimeError(f"{table} has rows: partition it before it is used")
        old = f"{table}_unpartitioned"
        cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
        cursor.execute(
            f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS) "
            f"PARTITION BY RANGE ({_q(column)})"
        )
        cursor.execute(f"DROP TABLE {_q(old)}")
        # The identity column's sequence went with the old table: a plain sequence
        # owned by the new column replaces it (identity needs PostgreSQL 17 here).
        sequence = f"{table}_id_seq"
        cursor.execute(f"CREATE SEQUENCE {_q(sequence)} OWNED BY {_q(table)}.id")
        cursor.execute(
            f"ALTER TABLE {_q(table)} ALTER COLUMN id SET DEFAULT nextval(%s::regclass)",
            [sequence],
        )
        cursor.execute(
            f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} "
            f"PRIMARY KEY (id, {_q(column)})"
        )
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        for definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"CREATE TABLE {_q(table + '_default')} PARTITION OF {_q(table)} DEFAULT")
    today = datetime.now(tz=UTC).date()
    for offset in range(-1, months_ahead + 1):
        ensure_month(connection, table=table, column=column, month=add_months(today, offset))


def is_partitioned(connection, table: str) -> bool:
    if not is_postgres(connection):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [table])
        return cursor.fetchone() is not None


def ensure_month(connection, *, table: str, column: str, month: date) -> bool:
    """Create the partition of `month` if missing (moving its rows out of the default
    partition). True if created."""
    if not is_postgres(connection):
        return False
    month = month_start(month)
    name = partition_name(table, month)
    upper = add_months(month, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return False
        # Serialise creators (two importers reaching a new month together).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return False
        bounds = [f"{month.isoformat()} 00:00:00+00", f"{upper.isoformat()} 00:00:00+00"]
        cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS)")
        # Identifiers are quoted names of our own tables; the bounds are parameters.
        move = (
            f"WITH moved AS (DELETE FROM {_q(table + '_default')} WHERE {_q(column)} >= %s "  # noqa: S608
            f"AND {_q(column)} < %s RETURNING *) INSERT INTO {_q(name)} SELECT * FROM moved"
        )
        cursor.execute(move, bounds)
        cursor.execute(
            f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES FROM (%s) TO (%s)",
            bounds,
        )
    return True


@dataclass(frozen=True)
class Partition:
    name: str
    month: date


def month_partitions(connection, table: str) -> list[Partition]:
    if not is_postgres(connection):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = []
    for name in names:
        match = _PART.search(name)
        if match:
            found.append(Partition(name, date(int(match["year"]), int(match["month"]), 1)))
    return sorted(found, key=lambda p: p.month)


def archive_partition(connection, *, table: str, partition: Partition, directory: Path) -> Path:
    """Write the partition to `directory` as gzip CSV (with a header), then detach and
    drop it. The file is complete before anything is dropped."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{partition.name}.csv.gz"
    partial = target.with_suffix(".gz.partial")
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with (
            gzip.open(partial, "wb") as out,
            raw.copy(
                f"COPY (SELECT * FROM {_q(partition.name)} ORDER BY 1) TO STDOUT "  # noqa: S608
                "WITH (FORMAT CSV, HEADER)"
            ) as copy,
        ):
            for chunk in copy:
                out.write(chunk)
        partial.rename(target)
        # Run deferred foreign-key checks now: a table with pending ones cannot be
        # dropped (only happens when the rows were written in this same transaction).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(partition.name)}")
        cursor.execute(f"DROP TABLE {_q(partition.name)}")
    return target
