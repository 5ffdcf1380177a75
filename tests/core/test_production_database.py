"""The production settings reach PostgreSQL through Django's connection pool (the
checks alone never open a connection)."""

import base64
import os
import secrets
import subprocess

from tests.support.processes import PROJECT_ROOT, VENV_BIN

QUERY = """
import django
django.setup()
from django.db import connection
for _ in range(3):  # the pool hands the connection back and out again
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        print(cursor.fetchone()[0] > 0)
    connection.close()
print(type(connection.pool).__name__)
# Seed item 58: the pool's use, as Prometheus scrapes it (apps/monitoring/database.py).
from prometheus_client.registry import REGISTRY
def sample(name):
    return REGISTRY.get_sample_value(name, {"alias": "default"})
print(sample("spotdesk_db_pool_size") >= 1, sample("spotdesk_db_requests_num_total") >= 3)
print(sample("spotdesk_db_pool_max") == connection.pool.max_size)
print(sample("spotdesk_db_requests_waiting"))
"""


def test_production_settings_query_the_database_through_the_pool(db):
    from django.db import connection

    database = connection.settings_dict["NAME"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "spotdesk.example.com",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-c", QUERY],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        *("True", "True", "True", "ConnectionPool"),
        *("True", "True", "True", "0.0"),  # pool metrics: open, asked, its size, no waiter
    ]
