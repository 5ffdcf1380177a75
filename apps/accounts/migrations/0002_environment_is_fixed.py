"""An exchange account's environment never changes, enforced by the database too."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION exchange_account_environment_fixed() RETURNS trigger AS $$
BEGIN
    IF NEW.environment IS DISTINCT FROM OLD.environment THEN
        RAISE EXCEPTION 'an exchange account''s environment is fixed at creation'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER exchange_account_environment_fixed
    BEFORE UPDATE OF environment ON accounts_exchangeaccount
    FOR EACH ROW EXECUTE FUNCTION exchange_account_environment_fixed();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS exchange_account_environment_fixed ON accounts_exchangeaccount;
DROP FUNCTION IF EXISTS exchange_account_environment_fixed();
"""
SQLITE_UP = """
CREATE TRIGGER exchange_account_environment_fixed
BEFORE UPDATE OF environment ON accounts_exchangeaccount
WHEN NEW.environment IS NOT OLD.environment
BEGIN SELECT RAISE(ABORT, 'an exchange account''s environment is fixed at creation'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS exchange_account_environment_fixed;"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
