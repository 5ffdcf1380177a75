"""The whole platform on one machine: the processes `make run` starts together.

Each process is a line of a Procfile run by honcho, so logs are combined with the
process name in front and Ctrl-C stops them all.
"""

import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings

from apps.core.errors import ConfigurationError


def reachable(url: str, *, default_port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout
        ):
            return True
    except OSError:
        return False


def redis_reachable(url: str, timeout: float = 1.0) -> bool:
    return reachable(url, default_port=6379, timeout=timeout)


def paper_state_file() -> Path:
    """Where the standalone paper exchange keeps its accounts, keys and orders."""
    return Path(settings.VAR_DIR) / "paper_exchange_state.json"


def redis_process(url: str, var_dir: Path) -> str | None:
    """A Procfile line that starts Redis under var/, or None when one already answers."""
    if redis_reachable(url):
        return None
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost"):
        raise ConfigurationError(
            f"Redis is not reachable at {parsed.hostname}:{parsed.port or 6379}. "
            "Fix: start it, or set REDIS_URL to a Redis that answers."
        )
    server = shutil.which("redis-server")
    if server is None:
        raise ConfigurationError(
            "Redis is not reachable at 127.0.0.1:6379 and redis-server is not installed. "
            "Fix: install Redis (Debian: apt-get install redis-server) or set REDIS_URL."
        )
    data_dir = var_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    return (
        f"{server} --bind 127.0.0.1 --port {parsed.port or 6379} --dir {data_dir} "
        "--save 60 1000 --appendonly no"
    )


def procfile_lines(*, host: str, port: int) -> dict[str, str]:
    python = sys.executable
    bin_dir = Path(python).parent
    lines = {}
    redis = redis_process(settings.REDIS_URL, Path(settings.VAR_DIR))
    if redis:
        lines["redis"] = redis
    paper = urlparse(settings.PAPER_EXCHANGE_URL)
    paper_address = f"{paper.hostname or '127.0.0.1'}:{paper.port or 9100}"
    # Web answers /healthz only once the paper exchange it demos against listens.
    lines["web"] = (
        f"{python} -m apps.core.waitfor {paper_address} --timeout 120 && "
        f"{bin_dir / 'daphne'} -b {host} -p {port} config.asgi:application"
    )
    lines["worker"] = (
        f"{bin_dir / 'celery'} -A celery_worker worker -Q execution,default,backtest "
        "--concurrency=2 --loglevel=INFO"
    )
    lines["beat"] = f"{bin_dir / 'celery'} -A celery_worker beat --loglevel=INFO"
    lines["paper"] = paper_exchange_process(python)
    # Streams follow the paper exchange once it listens (the demo trades on paper).
    lines["streams"] = (
        f"{python} -m apps.core.waitfor {paper_address} --timeout 120 && "
        f"{python} manage.py run_streams --shard 0/1 --environment paper"
    )
    return lines


def paper_exchange_process(python: str) -> str:
    """The paper exchange on PAPER_EXCHANGE_URL's port: the shared real data, looped so
    the demo's markets never run dry, plus generated USDT pairs; state kept in var/."""
    parsed = urlparse(settings.PAPER_EXCHANGE_URL)
    return (
        f"{python} manage.py run_paper_exchange --host {parsed.hostname or '127.0.0.1'} "
        f"--port {parsed.port or 9100} --loop "
        f"--state-file {paper_state_file()}"
    )


def write_procfile(lines: dict[str, str], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}: {command}\n" for name, command in lines.items()))
    return path
