"""`AddIndexOnline` builds PostgreSQL indexes concurrently (writes go on) and plain ones
on the embedded SQLite database."""

from django.db import connection, models

from apps.core.online_index import AddIndexOnline


def _sql(operation, *, forwards: bool) -> str:
    from django.db.migrations.loader import MigrationLoader

    state = MigrationLoader(connection).project_state()
    before = state.clone()
    operation.state_forwards("trading", state)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        if forwards:
            operation.database_forwards("trading", editor, before, state)
        else:
            operation.database_backwards("trading", editor, state, before)
    return " ".join(editor.collected_sql)


def test_postgresql_indexes_are_built_and_dropped_concurrently(db):
    operation = AddIndexOnline(
        model_name="order", index=models.Index(fields=["symbol"], name="order_online_probe")
    )
    created = _sql(operation, forwards=True)
    assert "CREATE INDEX CONCURRENTLY" in created
    assert '"order_online_probe"' in created
    assert "DROP INDEX CONCURRENTLY" in _sql(operation, forwards=False)


def test_the_identity_indexes_migration_is_not_atomic():
    from importlib import import_module

    migration = import_module("apps.trading.migrations.0007_order_identity_indexes").Migration
    assert migration.atomic is False
    assert all(isinstance(op, AddIndexOnline) for op in migration.operations)
