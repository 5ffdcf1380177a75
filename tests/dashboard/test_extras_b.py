"""Dashboard extras through Django's test client: the saved widget layout, the
onboarding tour flag, and the installable web app's manifest and service worker."""

import json

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.dashboard.models import DashboardPreferences
from tests.accounts.factories import make_org, member, otp_login, totp_device

pytestmark = pytest.mark.django_db

OVERVIEW = "/dashboard/"
LAYOUT = "/dashboard/preferences/layout/"
TOUR = "/dashboard/preferences/tour/"


def _json_script(response, element_id: str):
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def people():
    organization = make_org("Layout desk")
    return {
        "ana": member(organization, "trader", username="ana"),
        "bruno": member(organization, "viewer", username="bruno"),
    }


def _client_for(user, *, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    otp_login(client, user)
    return client


def _post_json(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def _csrf_token(client) -> str:
    client.get(OVERVIEW)  # the page sets the CSRF cookie and carries the token
    return client.cookies["csrftoken"].value


def test_a_saved_layout_is_restored_on_the_next_page_load(people):
    client = _client_for(people["ana"])
    assert _json_script(client.get(OVERVIEW), "dashboard-prefs")["layout"] == {
        "order": [],
        "hidden": [],
    }

    response = _post_json(client, LAYOUT, {"order": ["alerts", "accounts"], "hidden": ["alerts"]})
    assert response.status_code == 200
    assert response.json()["layout"] == {"order": ["alerts", "accounts"], "hidden": ["alerts"]}

    page = client.get(OVERVIEW)
    prefs = _json_script(page, "dashboard-prefs")
    assert prefs["layout"] == {"order": ["alerts", "accounts"], "hidden": ["alerts"]}
    assert client.get(LAYOUT).json()["layout"]["order"] == ["alerts", "accounts"]
    # The overview's sections carry the ids the layout refers to.
    html = page.content.decode()
    assert 'data-widget="accounts"' in html
    assert 'data-widget="alerts"' in html

    event = AuditEvent.objects.get(action="dashboard.layout_saved")
    assert event.actor_id == people["ana"].pk
    assert event.changes["layout"]["after"]["order"] == ["alerts", "accounts"]


def test_each_user_has_their_own_layout(people):
    ana, bruno = _client_for(people["ana"]), _client_for(people["bruno"])
    _post_json(ana, LAYOUT, {"order": ["alerts", "accounts"], "hidden": []})
    _post_json(bruno, LAYOUT, {"order": ["accounts"], "hidden": ["alerts"]})

    assert ana.get(LAYOUT).json()["layout"] == {"order": ["alerts", "accounts"], "hidden": []}
    assert bruno.get(LAYOUT).json()["layout"] == {"order": ["accounts"], "hidden": ["alerts"]}
    assert DashboardPreferences.objects.count() == 2


def test_saving_the_layout_requires_the_csrf_token(people):
    client = _client_for(people["ana"], csrf=True)
    refused = _post_json(client, LAYOUT, {"order": ["alerts"], "hidden": []})
    assert refused.status_code == 403
    assert not DashboardPreferences.objects.exists()

    token = _csrf_token(client)
    accepted = _post_json(
        client, LAYOUT, {"order": ["alerts"], "hidden": []}, HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 200
    assert DashboardPreferences.objects.get(user=people["ana"]).layout["order"] == ["alerts"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order": "alerts"}, "order"),
        ({"order": ["alerts", "alerts"]}, "order"),
        ({"order": ["<script>"]}, "order"),
        ({"hidden": [1]}, "hidden"),
        ({"order": [], "colour": "red"}, "colour"),
        (["alerts"], "layout"),
    ],
)
def test_a_bad_layout_is_refused_naming_the_field_and_changes_nothing(people, body, field):
    client = _client_for(people["ana"])
    _post_json(client, LAYOUT, {"order": ["alerts", "accounts"], "hidden": []})

    response = _post_json(client, LAYOUT, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert client.get(LAYOUT).json()["layout"]["order"] == ["alerts", "accounts"]
    assert AuditEvent.objects.filter(action="dashboard.layout_saved").count() == 1


def test_the_preferences_need_a_verified_session(people):
    anonymous = Client()
    assert anonymous.get(LAYOUT).status_code == 403
    assert _post_json(anonymous, LAYOUT, {"order": []}).status_code == 403
    totp_device(people["ana"])
    unverified = Client()
    unverified.force_login(people["ana"])  # password only: the second factor not given yet
    assert unverified.post(TOUR).status_code == 403
    assert _post_json(unverified, LAYOUT, {"order": []}).status_code == 403
    assert not DashboardPreferences.objects.exists()


def test_the_tour_is_shown_once_per_user(people):
    ana = _client_for(people["ana"])
    assert _json_script(ana.get(OVERVIEW), "dashboard-prefs")["tour_pending"] is True
    steps = _json_script(ana.get(OVERVIEW), "tour-steps")
    assert 3 <= len(steps) <= 5
    assert all(step["target"] and step["title"] and step["text"] for step in steps)

    assert ana.post(TOUR).json()["tour_pending"] is False
    assert _json_script(ana.get(OVERVIEW), "dashboard-prefs")["tour_pending"] is False
    ana.post(TOUR)  # finishing a restarted tour: remembered once
    assert AuditEvent.objects.filter(action="dashboard.tour_completed").count() == 1

    # Someone else still gets it, and saving a layout does not count as having seen it.
    bruno = _client_for(people["bruno"])
    _post_json(bruno, LAYOUT, {"order": ["alerts"], "hidden": []})
    assert _json_script(bruno.get(OVERVIEW), "dashboard-prefs")["tour_pending"] is True


def test_the_tour_flag_is_posted_with_csrf(people):
    client = _client_for(people["ana"], csrf=True)
    assert client.post(TOUR).status_code == 403
    token = _csrf_token(client)
    assert client.post(TOUR, HTTP_X_CSRFTOKEN=token).status_code == 200
    assert DashboardPreferences.objects.get(user=people["ana"]).tour_completed_at is not None


def test_the_manifest_makes_the_dashboard_installable(client, people):
    response = client.get("/dashboard/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "Spotdesk"
    assert manifest["start_url"] == "/dashboard/"
    assert manifest["display"] == "standalone"
    icon = manifest["icons"][0]
    assert icon["type"] == "image/svg+xml"
    assert icon["src"].endswith("dashboard/icon.svg")

    page = _client_for(people["ana"]).get(OVERVIEW).content.decode()
    assert 'rel="manifest" href="/dashboard/manifest.webmanifest"' in page


def test_the_service_worker_is_served_for_the_dashboard_scope(client):
    response = client.get("/dashboard/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/dashboard/"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    script = response.content.decode()
    assert 'addEventListener("fetch"' in script
    assert 'type === "logout"' in script  # the logout message clears the caches


def test_the_pages_carry_the_voice_tour_and_offline_pieces(people):
    page = _client_for(people["ana"]).get(OVERVIEW).content.decode()
    for piece in (
        'id="voice-button"',
        'id="offline-banner"',
        'id="tour"',
        'id="logout-form"',
        "dashboard/voice.js",
        "dashboard/widgets.js",
        "dashboard/tour.js",
        "dashboard/pwa.js",
    ):
        assert piece in page, piece
