"""Real processes for integration tests: started, awaited, stopped, logs kept."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0, process: "ManagedProcess | None" = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early:\n{process.output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


class ManagedProcess:
    """A subprocess whose combined output goes to a temp file for post-mortems."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        # Kept open for the life of the process; closed in stop().
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"{name}-", suffix=".log", delete=False
        )
        self.popen = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stop() reaches the children too
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()


def child_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


def database_url_for(settings_dict: dict) -> str:
    """The URL of the database pytest-django created, for child processes."""
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@contextmanager
def running_daphne(database_url: str):
    """daphne serving the project's ASGI application (HTTP and WebSocket) on a free
    port, against `database_url`; stopped on exit."""
    port = free_port()
    command = [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
    server = ManagedProcess(
        "daphne", [*command, "config.asgi:application"], child_env(DATABASE_URL=database_url)
    )
    try:
        wait_for_port(port, process=server)
        server.base_url = f"http://127.0.0.1:{port}"
        server.ws_url = f"ws://127.0.0.1:{port}"
        yield server
    finally:
        server.stop()
