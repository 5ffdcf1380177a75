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


def _production_env(**extra) -> dict:
    from django.db import connection

    database = connection.settings_dict["NAME"]
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "spotdesk.example.com",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        **extra,
    }


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "python"), "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_query_the_database_through_the_pool(db):
    result = _run(QUERY, _production_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        *("True", "True", "True", "ConnectionPool"),
        *("True", "True", "True", "0.0"),  # pool metrics: open, asked, its size, no waiter
    ]


SHED = """
import django
django.setup()
from django.db import connection
from django.test import Client
from prometheus_client.registry import REGISTRY
connection.ensure_connection()  # opens the pool
connection.close()  # and hands its connection back
held = connection.pool.getconn()  # the pool's only connection, lent to someone else
client = Client(HTTP_X_FORWARDED_PROTO="https", raise_request_exception=False)
api = client.get("/api/v1/orders/", HTTP_AUTHORIZATION="Token sdt_" + "x" * 40)
client.cookies["sessionid"] = "s" * 32  # a signed-in browser: its session is in the database
page = client.get("/dashboard/")
connection.pool.putconn(held)
print(api.status_code, api["Retry-After"], api.json()["error"]["code"])
print(page.status_code, page["Retry-After"])
for surface in ("api", "page"):
    print(REGISTRY.get_sample_value("spotdesk_requests_shed_total", {"surface": surface}))
print(client.get("/dashboard/").status_code)  # the connection is back: to the login page
"""


def test_a_request_that_finds_no_free_connection_is_shed_with_503(db):
    """Overload is not a crash: with the pool's one connection held elsewhere, an API
    request and a page wait DATABASE_POOL_TIMEOUT, then get 503 and Retry-After."""
    env = _production_env(
        ALLOWED_HOSTS="testserver",
        DATABASE_POOL_MIN_SIZE="1",
        DATABASE_POOL_MAX_SIZE="1",
        DATABASE_POOL_TIMEOUT="0.3",
        LOG_LEVEL="CRITICAL",
    )
    result = _run(SHED, env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:5] == [
        "503 5 overloaded",
        "503 5",
        "1.0",
        "1.0",
        "302",
    ], result.stdout
