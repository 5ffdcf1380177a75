"""Indexes for the ops console's order lookups by a pasted client or exchange order id
(the unique indexes lead with the account); justified in docs/performance.md."""

from django.db import migrations, models

from apps.core.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("trading", "0006_drop_unused_indexes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="order",
            index=models.Index(fields=["client_order_id"], name="order_client_id"),
        ),
        AddIndexOnline(
            model_name="order",
            index=models.Index(
                condition=models.Q(("exchange_order_id__isnull", False)),
                fields=["exchange_order_id"],
                name="order_exchange_id",
            ),
        ),
    ]
