"""The platform's processes as the soak runs them: a Celery worker, the streams process
(`manage.py run_streams`) and beat, each killed with SIGKILL (its whole process group,
no chance to clean up) and started again on demand."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

from tests.support.processes import PROJECT_ROOT, VENV_BIN, ManagedProcess, child_env

# Short leases and retries so a restarted process takes over within seconds.
FAST_RECOVERY = {
    "CELERY_BROKER_VISIBILITY_TIMEOUT": "5",
    "TRADING_ACCOUNT_LOCK_TTL_SECONDS": "4",
    "TRADING_CYCLE_BUSY_RETRY_SECONDS": "2",
    "WORKER_METRICS_PORT": "0",
    "STREAMS_METRICS_PORT": "0",
}


def _command(name: str, serial: int) -> list[str]:
    celery = [str(VENV_BIN / "celery"), "-A", "celery_worker"]
    if name == "worker":
        return [*celery, "worker", "-Q", "execution,default", "--pool=solo",
                "-n", f"soak-{serial}-{int(time.time() * 1000)}@localhost",
                "--without-gossip", "--without-mingle", "--loglevel=INFO"]  # fmt: skip
    if name == "beat":
        return [*celery, "beat", "--loglevel=INFO"]
    if name == "streams":
        return [str(VENV_BIN / "python"), str(PROJECT_ROOT / "manage.py"), "run_streams",
                "--environment", "paper", "--refresh", "5"]  # fmt: skip
    raise ValueError(name)


class Fleet:
    """One process of each kind; `kill` and `start` count what they did."""

    def __init__(self, database_url: str, exchange_url: str):
        self.env = child_env(DATABASE_URL=database_url, PAPER_EXCHANGE_URL=exchange_url,
                             **FAST_RECOVERY)  # fmt: skip
        self.running: dict[str, ManagedProcess] = {}
        self.finished: list[ManagedProcess] = []
        self.kills: Counter = Counter()
        self.starts: Counter = Counter()

    def start(self, name: str) -> bool:
        if self.is_up(name):
            return False
        self.starts[name] += 1
        self.running[name] = ManagedProcess(
            f"soak-{name}", _command(name, self.starts[name]), self.env
        )
        return True

    def kill(self, name: str) -> bool:
        """SIGKILL the process group; False when it was not running."""
        process = self.running.pop(name, None)
        if process is None or process.popen.poll() is not None:
            return False
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait()
        self.finished.append(process)
        self.kills[name] += 1
        return True

    def is_up(self, name: str) -> bool:
        process = self.running.get(name)
        return process is not None and process.popen.poll() is None

    def output(self, name: str) -> str:
        process = self.running.get(name)
        return process.output() if process else ""

    def wait_ready(self, name: str, marker: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output(name):
            if not self.is_up(name) or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{self.output(name)[-4000:]}")
            time.sleep(0.2)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.running.pop(name).stop()
        for process in self.finished:
            process.log.close()
