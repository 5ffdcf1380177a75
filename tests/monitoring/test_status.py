"""The authenticated fleet view shows worker heartbeats, to verified staff only."""

import json
import time

import pytest

from apps.monitoring.heartbeats import record_worker_heartbeat
from tests.accounts.factories import make_user, otp_login, totp_device


@pytest.fixture
def ops_client(client):
    otp_login(client, make_user("ops-on-call", staff=True))
    return client


@pytest.mark.django_db
def test_status_requires_a_login(client):
    response = client.get("/status")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_status_refuses_staff_without_a_verified_second_factor(client):
    user = make_user("ops-no-otp", staff=True)
    totp_device(user)
    client.force_login(user)  # password only: no device bound to the session
    assert client.get("/status").status_code == 302


@pytest.mark.django_db
def test_status_refuses_members_who_are_not_staff(client):
    otp_login(client, make_user("member"))
    assert client.get("/status").status_code == 302


@pytest.mark.django_db
def test_status_lists_live_workers(ops_client, redis_client):
    record_worker_heartbeat(hostname="worker-a@host", queue="execution")
    page = ops_client.get("/status")
    assert page.status_code == 200
    assert b"worker-a@host" in page.content
    data = ops_client.get("/status?format=json").json()
    assert data["workers"][0]["hostname"] == "worker-a@host"
    assert data["workers"][0]["queue"] == "execution"
    assert data["healthy"] is True


@pytest.mark.django_db
def test_status_is_degraded_without_workers(ops_client, redis_client):
    data = ops_client.get("/status?format=json").json()
    assert data["workers"] == []
    assert data["healthy"] is False
    assert b"No worker has sent a heartbeat" in ops_client.get("/status").content


@pytest.mark.django_db
def test_status_shows_each_exchange_environments_clock_and_ping(ops_client, redis_client):
    sample = {"environment": "paper", "at": time.time(), "ping_ms": 1.7, "offset_ms": -12}
    redis_client.set("exchange:connectivity:paper", json.dumps(sample))
    data = ops_client.get("/status?format=json").json()
    assert data["exchange"]["connectivity"]["paper"]["ping_ms"] == 1.7
    page = ops_client.get("/status").content.decode()
    row = page[page.index('id="exchange"') :]
    assert "paper" in row
    assert "1.7 ms" in row
    assert "-12 ms" in row
