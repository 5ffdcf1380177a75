"""Decisions partitioned by month of creation on PostgreSQL (a plain table elsewhere)."""

from django.db import migrations


def partition(apps, schema_editor):
    from apps.marketdata.partitioning import partition_by_month

    partition_by_month(schema_editor.connection, table="trading_decision", column="created_at")


class Migration(migrations.Migration):
    dependencies = [("trading", "0001_initial"), ("marketdata", "0002_partition_candles")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
