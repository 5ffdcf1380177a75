"""State-changing pages refuse a POST without the CSRF token: the login form, admin
forms and admin actions (the API's session writes: tests/api/test_permissions.py).
Each case also posts with the token, so the refusal is CSRF's and nothing else's."""

import re

import pytest
from django.test import Client

from apps.accounts.models import Organization
from tests.accounts.factories import PASSWORD, make_user, otp_login

pytestmark = pytest.mark.django_db


def _token(client: Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)[1].decode()


def test_the_login_form_needs_the_token():
    make_user("alice")
    client = Client(enforce_csrf_checks=True)
    data = {"username": "alice", "password": PASSWORD}
    assert client.post("/accounts/login/", data).status_code == 403
    assert "_auth_user_id" not in client.session
    data["csrfmiddlewaretoken"] = _token(client, "/accounts/login/")
    assert client.post("/accounts/login/", data).status_code == 302


@pytest.fixture
def staff_client():
    client = Client(enforce_csrf_checks=True)
    otp_login(client, make_user(superuser=True))
    return client


def test_an_admin_form_needs_the_token(staff_client):
    data = {"name": "csrf desk", "slug": "csrf-desk"}
    path = "/admin/accounts/organization/add/"
    assert staff_client.post(path, data).status_code == 403
    assert not Organization.objects.filter(slug="csrf-desk").exists()
    data["csrfmiddlewaretoken"] = _token(staff_client, path)
    assert staff_client.post(path, data).status_code == 302
    assert Organization.objects.filter(slug="csrf-desk").exists()


def test_an_admin_action_needs_the_token(staff_client):
    organization = Organization.objects.create(name="doomed", slug="doomed")
    path = "/admin/accounts/organization/"
    data = {"action": "delete_selected", "_selected_action": [organization.pk], "post": "yes"}
    assert staff_client.post(path, data).status_code == 403
    assert Organization.objects.filter(pk=organization.pk).exists()
    data["csrfmiddlewaretoken"] = _token(staff_client, path)
    # With the token the action runs (or is refused for its own reasons, never CSRF's).
    assert staff_client.post(path, data).status_code != 403
