"""Indexes for an account's orders, fills and positions newest first: the API's and the
dashboard's first page is read from the top of the index instead of sorting every row
of the account (justified in docs/performance.md)."""

from django.db import migrations, models

from apps.core.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("trading", "0008_fill_trade_id_index"),
    ]

    operations = [
        AddIndexOnline(
            model_name=model,
            index=models.Index(fields=["account", "id"], name=f"{model}_account_newest"),
        )
        for model in ("order", "fill", "position")
    ]
