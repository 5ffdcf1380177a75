"""Production-like web processes for the load benchmarks (bench-only).

`production_env` is the environment of `config.settings.production` (DEBUG off, the
PostgreSQL pool, Redis, system checks at start) for one bench database and Redis db;
the bench process sets it on itself too, so that it shares the database, the sessions
and the Channels layer with the servers. `Daphnes` starts N daphne processes exactly
as the container does (`daphne --proxy-headers config.asgi:application`), waits for
each `/healthz`, and stops them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PY = str(Path(sys.executable))
VENV_BIN = Path(sys.executable).parent
SECRETS_FILE = ROOT / "var" / "bench" / "load-secrets.json"


def _bench_secrets() -> dict:
    """A SECRET_KEY and a Fernet key for the bench database, made once and kept with it
    (under var/, ignored by git): the stored API keys must stay readable across runs."""
    if SECRETS_FILE.exists():
        return json.loads(SECRETS_FILE.read_text())
    SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    SECRETS_FILE.write_text(json.dumps(values))
    SECRETS_FILE.chmod(0o600)
    return values


def production_env(database: str, redis_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # One proxy in front, as in deploy/: the client address comes from
        # X-Forwarded-For, and the load generator plays many clients.
        "AXES_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        **_bench_secrets(),
    }


def ensure_database(database: str, env: dict[str, str]) -> bool:
    """Create and migrate `database` if it is missing; True when it was created."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            c.execute(f'CREATE DATABASE "{database}"')
    subprocess.run(
        [PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True, env={**os.environ, **env}
    )
    return not exists


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daphnes:
    """N daphne processes serving the project's ASGI application on loopback."""

    def __init__(self, count: int, env: dict[str, str], name: str = "bench-daphne"):
        self.env = {**os.environ, **env}
        self.name = name
        self.ports = [free_port() for _ in range(count)]
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def __enter__(self) -> Daphnes:
        for port in self.ports:
            log = Path(tempfile.gettempdir()) / f"{self.name}-{port}.log"
            self.logs.append(log)
            self.procs.append(
                subprocess.Popen(
                    [
                        str(VENV_BIN / "daphne"),
                        "-b",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "--proxy-headers",
                        "config.asgi:application",
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for port, proc, log in zip(self.ports, self.procs, self.logs, strict=True):
            self._wait_healthy(port, proc, log)
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    @staticmethod
    def _wait_healthy(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"daphne on {port} exited:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"daphne on {port} was not healthy within {timeout} s")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def cpu_of_named(prefixes: tuple[str, ...]) -> dict[int, float]:
    """CPU seconds used so far by each running process whose name starts with one of
    `prefixes` (e.g. the database's backends), by pid. A process that ends while it is
    read is left out."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if name.startswith(prefixes):
            fields = rest.split()
            found[int(proc.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes running at both readings used in between."""
    return sum(after[pid] - seconds for pid, seconds in before.items() if pid in after)


def machine_summary() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
