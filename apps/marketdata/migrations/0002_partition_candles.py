"""Candles partitioned by month of open time on PostgreSQL (a plain table elsewhere)."""

from django.db import migrations


def partition(apps, schema_editor):
    from apps.marketdata.partitioning import partition_by_month

    partition_by_month(schema_editor.connection, table="marketdata_candle", column="open_time")


class Migration(migrations.Migration):
    dependencies = [("marketdata", "0001_initial")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
