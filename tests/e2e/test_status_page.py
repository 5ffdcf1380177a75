"""The fleet status page in a real browser: login, workers, language."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from apps.monitoring.heartbeats import record_worker_heartbeat
from tests.accounts.factories import code_for, totp_device

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-e2e-password-123"


@pytest.fixture
def staff_user():
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    device = totp_device(user)
    connection.close()
    return user, device


def test_staff_logs_in_and_sees_live_workers(
    page, daphne_server, staff_user, redis_client, tmp_path
):
    record_worker_heartbeat(hostname="celery@e2e-host", queue="execution")
    page.goto(f"{daphne_server.base_url}/status")
    assert "/accounts/login/" in page.url  # anonymous visitors are sent to log in
    _, device = staff_user
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code_for(device))
    page.click("button[type=submit]")
    page.wait_for_url("**/status")
    assert page.locator("h1").inner_text().startswith("Fleet status")
    assert page.locator("#workers").inner_text().count("celery@e2e-host") == 1
    page.screenshot(path=str(tmp_path / "status.png"), full_page=True)
