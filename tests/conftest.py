"""Fixtures shared by the whole suite: real Redis, real worker, real daphne."""

import time

import pytest

from tests.support.processes import (
    VENV_BIN,
    ManagedProcess,
    child_env,
    database_url_for,
    running_daphne,
)

# The paper-exchange trading fixtures, for every test package (workers reach it too).
pytest_plugins = ("tests.trading.fixtures", "tests.trading.cycle.fixtures")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in pt-BR or es (the
    LocaleMiddleware activates it for the thread) must not leak into the next test."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


def empty_keeping_broker_bindings(client) -> None:
    """Delete every key but the broker's queue bindings (`_kombu.binding.*`): the
    session's Celery worker declared them once at start, and a publish to an exchange
    without its binding is dropped silently, so a plain FLUSHDB would leave every later
    test's task unrouted."""
    doomed = [
        key
        for key in client.scan_iter(count=1000)
        if not (key.decode() if isinstance(key, bytes) else key).startswith("_kombu.binding.")
    ]
    for start in range(0, len(doomed), 1000):
        client.unlink(*doomed[start : start + 1000])


@pytest.fixture
def redis_client():
    """The test Redis database, emptied before each test that asks for it."""
    from apps.core.redis import get_redis

    client = get_redis()
    empty_keeping_broker_bindings(client)
    yield client
    empty_keeping_broker_bindings(client)


def _test_database_url() -> str:
    from django.db import connection

    return database_url_for(connection.settings_dict)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, trading_exchange):
    """A real Celery worker on every queue, against the test database and Redis, and the
    trading tests' paper exchange (it may take any `execution` task they enqueue)."""
    with django_db_blocker.unblock():
        env = child_env(DATABASE_URL=_test_database_url(), PAPER_EXCHANGE_URL=trading_exchange.url)
    name = f"pytest-{int(time.time())}@localhost"
    worker = ManagedProcess(
        "celery-worker",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "celery_worker",
            "worker",
            "-Q",
            "execution,default,backtest",
            "--pool=solo",
            "--concurrency=1",
            "-n",
            name,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        env,
    )
    worker.hostname = name
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker):
    """The real ASGI stack (HTTP + WebSocket) served by daphne on a free port."""
    with django_db_blocker.unblock():
        database_url = _test_database_url()
    with running_daphne(database_url) as server:
        yield server


@pytest.fixture
def wait_until():
    """Poll a condition (bounded), instead of sleeping a fixed time."""

    def _wait(condition, *, timeout: float = 30.0, interval: float = 0.1, message: str = ""):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(message or f"condition not met within {timeout}s")

    return _wait
