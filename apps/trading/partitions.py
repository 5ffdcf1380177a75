"""The monthly-partitioned tables, their retention, and their upkeep: partitions are
created ahead of time, and months past retention are archived to gzip CSV and dropped
(PostgreSQL). On SQLite (demos) old rows are exported the same way and deleted."""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection, transaction

from apps.marketdata import conf as marketdata_conf
from apps.marketdata.models import Candle
from apps.marketdata.partitioning import (
    add_months,
    archive_partition,
    ensure_month,
    is_postgres,
    month_partitions,
)

from . import conf
from .models import Decision


@dataclass(frozen=True)
class PartitionedTable:
    model: type
    column: str
    retention_months: callable


TABLES = (
    PartitionedTable(Candle, "open_time", marketdata_conf.candle_retention_months),
    PartitionedTable(Decision, "created_at", conf.decision_retention_months),
)


def ensure_ahead(*, months: int | None = None) -> list[str]:
    """Create this month's and the next months' partitions; returns those created."""
    months = marketdata_conf.partitions_ahead() if months is None else months
    created = []
    today = datetime.now(tz=UTC).date()
    for spec in TABLES:
        table = spec.model._meta.db_table
        for offset in range(months + 1):
            month = add_months(today, offset)
            with transaction.atomic():
                if ensure_month(connection, table=table, column=spec.column, month=month):
                    created.append(f"{table} {month:%Y-%m}")
    return created


def archive_expired(*, directory: Path, dry_run: bool = False, today=None) -> list[str]:
    """Archive every month older than its table's retention (the current month counts
    as the first). Returns what was (or, with dry_run, would be) archived."""
    today = today or datetime.now(tz=UTC).date()
    done = []
    for spec in TABLES:
        cutoff = add_months(today, -(spec.retention_months() - 1))
        table = spec.model._meta.db_table
        if is_postgres(connection):
            for partition in month_partitions(connection, table):
                if partition.month >= cutoff:
                    continue
                done.append(partition.name)
                if not dry_run:
                    with transaction.atomic():
                        archive_partition(
                            connection, table=table, partition=partition, directory=directory
                        )
        else:
            cutoff_at = datetime(cutoff.year, cutoff.month, 1, tzinfo=UTC)
            old = spec.model.objects.filter(**{f"{spec.column}__lt": cutoff_at})
            if old.exists():
                done.append(f"{table} before {cutoff:%Y-%m}")
                if not dry_run:
                    _export_and_delete(old, directory / f"{table}_before_{cutoff:%Y%m}.csv.gz")
    return done


def _export_and_delete(queryset, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fields = queryset.model._meta.concrete_fields
    rows = queryset.order_by("pk").values_list(*[f.attname for f in fields])
    with transaction.atomic():
        with gzip.open(target, "wt", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([f.column for f in fields])
            for row in rows.iterator():
                writer.writerow(row)
        queryset._raw_delete(queryset.db)
