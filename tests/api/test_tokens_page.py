"""The API tokens settings page: create (shown once), list, revoke; same rules as the API."""

import pytest
from django.test import Client

from apps.api.models import ApiToken
from tests.api.conftest import session_client, token_client

pytestmark = pytest.mark.django_db
PAGE = "/api/settings/tokens/"


def test_create_list_and_revoke_from_the_page(desk):
    client = session_client(desk.trader)
    assert client.get(PAGE).status_code == 200
    response = client.post(PAGE, {"name": "laptop", "scope": "read", "days": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=desk.trader)
    html = response.content.decode()
    raw = html.split('<code id="token-value">')[1].split("</code>")[0]
    assert raw.startswith(token.prefix)
    assert token_client(raw).get("/api/v1/organizations/").status_code == 200
    # Listed afterwards by prefix, never in full.
    listing = client.get(PAGE).content.decode()
    assert token.prefix in listing
    assert raw not in listing
    revoked = client.post(f"{PAGE}{token.pk}/revoke/", follow=True)
    assert revoked.status_code == 200
    assert token_client(raw).get("/api/v1/organizations/").status_code == 401


def test_creating_on_the_page_needs_a_fresh_code(desk):
    client = session_client(desk.trader, fresh=False)
    response = client.post(PAGE, {"name": "laptop", "scope": "read", "days": "30"})
    assert response.status_code == 302
    assert "/accounts/otp/step-up/" in response["Location"]
    assert not ApiToken.objects.exists()


def test_the_page_needs_a_verified_login(desk):
    assert Client().get(PAGE).status_code == 302
    unverified = Client()
    unverified.force_login(desk.admin)
    response = unverified.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_nobody_revokes_anothers_token_from_the_page(desk):
    from tests.api.conftest import token_for

    raw = token_for(desk.admin, "read")
    token = ApiToken.objects.get()
    session_client(desk.viewer_with_device()).post(f"{PAGE}{token.pk}/revoke/")
    assert token_client(raw).get("/api/v1/organizations/").status_code == 200


def test_unknown_api_paths_answer_in_the_error_shape(desk):
    response = session_client(desk.viewer).post("/api/v1/nowhere/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
