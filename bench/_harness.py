"""Set-up the process benchmarks share: a fresh migrated database of their own, and
waiting for the paper exchange they start to answer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def recreate_database(name: str) -> None:
    """Drop and create `name`, then migrate it (DATABASE_URL must already point at it)."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {name}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)


def wait_for_exchange(url: str) -> None:
    import requests

    for _ in range(300):
        try:
            requests.get(f"{url}/api/v3/ping", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the paper exchange did not start")
