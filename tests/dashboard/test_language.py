"""The language is the user's, on every device: a switch is saved, a new session (another
browser, no cookie) opens in it, and bad input changes nothing."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.dashboard.models import DashboardPreferences
from tests.accounts.factories import make_org, member, otp_login

pytestmark = pytest.mark.django_db


def test_a_users_language_follows_them_to_another_browser():
    user = member(make_org(), "trader")
    first = Client()
    otp_login(first, user)
    switched = first.post("/dashboard/language/", {"language": "pt-br", "next": "/dashboard/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/dashboard/"
    assert DashboardPreferences.objects.get(user=user).language == "pt-br"
    assert AuditEvent.objects.filter(action="dashboard.language_saved").count() == 1

    other = Client(HTTP_ACCEPT_LANGUAGE="es")  # another browser: no cookie, Spanish headers
    otp_login(other, user)
    page = other.get("/dashboard/").content.decode()
    assert 'lang="pt-br"' in page
    assert "Visão geral" in page  # "Overview"


def test_an_unknown_language_is_refused_and_nothing_is_saved():
    user = member(make_org(), "trader")
    client = Client()
    otp_login(client, user)
    refused = client.post("/dashboard/language/", {"language": "xx", "next": "/dashboard/"})
    assert refused.status_code == 400
    assert b"language" in refused.content
    assert not DashboardPreferences.objects.filter(user=user, language__gt="").exists()
