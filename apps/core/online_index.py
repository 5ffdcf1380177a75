"""Migration operations that build indexes without blocking writes on large tables."""

from django.db.migrations.operations import AddIndex


class AddIndexOnline(AddIndex):
    """`CREATE INDEX CONCURRENTLY` on PostgreSQL, so a table of millions of orders keeps
    taking writes while the index builds (the migration must be `atomic = False`); a
    plain index on the embedded SQLite database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)
