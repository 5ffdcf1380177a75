"""The authenticated fleet view shows worker heartbeats."""

import pytest

from apps.monitoring.heartbeats import record_worker_heartbeat


@pytest.mark.django_db
def test_status_requires_a_staff_login(client):
    response = client.get("/status")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_status_lists_live_workers(admin_client, redis_client):
    record_worker_heartbeat(hostname="worker-a@host", queue="execution")
    page = admin_client.get("/status")
    assert page.status_code == 200
    assert b"worker-a@host" in page.content
    data = admin_client.get("/status?format=json").json()
    assert data["workers"][0]["hostname"] == "worker-a@host"
    assert data["workers"][0]["queue"] == "execution"
    assert data["healthy"] is True


@pytest.mark.django_db
def test_status_is_degraded_without_workers(admin_client, redis_client):
    data = admin_client.get("/status?format=json").json()
    assert data["workers"] == []
    assert data["healthy"] is False
    assert b"No worker has sent a heartbeat" in admin_client.get("/status").content
