"""A real Celery worker that reaches the test paper exchange.

The suite-wide `celery_worker_process` is session-scoped and knows nothing of the
paper exchange; this one is started per test, after the test's Redis was emptied (an
emptied Redis would lose the broker's queue bindings under a running worker)."""

from __future__ import annotations

import time

import pytest

from tests.support.processes import VENV_BIN, ManagedProcess, child_env, database_url_for


@pytest.fixture
def start_cycle_worker(paper_market, django_db_blocker):
    """start(**env) -> a running worker on `execution`; every one is stopped after."""
    from django.db import connection

    with django_db_blocker.unblock():
        url = database_url_for(connection.settings_dict)
    started = []

    def start(**env: str) -> ManagedProcess:
        worker = _start(url, paper_market.url, env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def cycle_worker(start_cycle_worker):
    return start_cycle_worker()


def _start(url: str, paper_url: str, env: dict[str, str]) -> ManagedProcess:
    name = f"cycle-{int(time.time() * 1000)}@localhost"
    worker = ManagedProcess(
        "cycle-worker",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "celery_worker",
            "worker",
            "-Q",
            "execution",
            "--pool=solo",
            "-n",
            name,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        child_env(DATABASE_URL=url, PAPER_EXCHANGE_URL=paper_url, **env),
    )
    deadline = time.monotonic() + 60
    while "ready." not in worker.output():
        if worker.popen.poll() is not None or time.monotonic() > deadline:
            output = worker.output()
            worker.stop()
            raise RuntimeError(f"the cycle worker did not start:\n{output}")
        time.sleep(0.2)
    return worker
