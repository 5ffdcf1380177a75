"""Migration operations that build indexes without blocking writes on large tables."""

from django.db.migrations.operations import AddIndex


class AddIndexOnline(AddIndex):
    """`CREATE INDEX CONCURRENTLY` on PostgreSQL, so a table of millions of orders keeps
    taking writes while the index builds (the migration must be `atomic = False`); a
    plain index on the embedded SQLite database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._apply(app_label, schema_editor, to_state, "add_index")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._apply(app_label, schema_editor, from_state, "remove_index")

    def _apply(self, app_label, schema_editor, state, action: str) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        options = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
        getattr(schema_editor, action)(model, self.index, **options)
