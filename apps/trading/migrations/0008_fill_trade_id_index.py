"""An index for the ops console's fill lookup by a pasted exchange trade id (the unique
index leads with the account); justified in docs/performance.md."""

from django.db import migrations, models

from apps.core.online_index import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("trading", "0007_order_identity_indexes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="fill",
            index=models.Index(fields=["exchange_trade_id"], name="fill_exchange_trade_id"),
        ),
    ]
