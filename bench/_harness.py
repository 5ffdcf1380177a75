"""Set-up the process benchmarks share: a fresh migrated database of their own, and
a paper exchange on the test clock without rate limits to speak of, waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
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


def start_unlimited_exchange(
    port: int, *, admin_token: str, log_name: str, options: tuple[str, ...] = ()
) -> subprocess.Popen:
    """The paper exchange on the test clock, no replay data, limits far above what a
    bench asks (the bench measures Spotdesk, not the exchange's rate limits); its
    output goes to `log_name` in the temporary directory."""
    log = (Path(tempfile.gettempdir()) / log_name).open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "apps.paper_exchange", "--port", str(port), "--test-clock",
         "--no-data", "--admin-token", admin_token, "--weight-limit", "100000000",
         "--raw-limit", "1000000000", "--orders-10s", "1000000", "--orders-1d", "100000000",
         *options],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
