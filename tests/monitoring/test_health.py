"""Liveness, readiness (time-boxed, this process only) and the metrics guard."""

import socket
import threading
import time

import pytest

from tests.support.processes import free_port


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: pytest-django raises on any database access here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_lists_each_check_when_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "redis"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_fails_fast_when_redis_port_is_closed(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"]["status"] == "failed"
    assert "ConnectionError" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["status"] == "ok"
    assert elapsed < settings.READINESS_TIMEOUT + 1


@pytest.fixture
def silent_server():
    """Accepts TCP connections and never answers: a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept_forever():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.mark.django_db
def test_readyz_answers_within_its_timeout_when_redis_hangs(client, settings, silent_server):
    settings.REDIS_URL = f"redis://127.0.0.1:{silent_server}/0"
    settings.REDIS_HEALTH_TIMEOUT = 30  # the client alone would wait this long
    settings.READINESS_TIMEOUT = 1.0
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "timed out" in response.json()["checks"]["redis"]["error"]
    assert elapsed < 2.5


def test_metrics_refuses_strangers_and_accepts_a_token(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "scrape-token-123456"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-123456")
    assert response.status_code == 200
    assert b"spotdesk_alerts_raised_total" in response.content


def test_metrics_allows_listed_addresses(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403


def test_every_response_carries_a_correlation_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    fresh = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")
    assert fresh["X-Request-ID"] != "bad id with spaces"
    assert len(fresh["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_metrics_count_database_queries_and_cache_calls(client):
    from django.core.cache import cache

    from apps.accounts.models import Organization
    from tests.monitoring.scrape import sample

    def scrape() -> str:
        return client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()

    before = scrape()
    list(Organization.objects.all())
    cache.set("metrics-probe", 1)
    cache.get("metrics-probe")
    after = scrape()
    queries = "django_db_execute_total"
    assert (sample(after, queries, alias="default", vendor="postgresql") or 0) > (
        sample(before, queries, alias="default", vendor="postgresql") or 0
    )
    cache_gets = "django_cache_get_total"
    assert sample(after, cache_gets, backend="redis") > sample(before, cache_gets, backend="redis")
