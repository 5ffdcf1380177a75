"""Dashboard extras in a real browser: a voice command (a recognition result dispatched
into the same handler the recognizer calls) pauses the account after confirmation; the
overview's widget layout persists across reloads; the onboarding tour shows once."""

import pytest
from django.db import connection

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.dashboard.models import DashboardPreferences
from tests.accounts.factories import PASSWORD, code_for, make_org, member, totp_device

from .test_dashboard import _shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(paper_account):
    organization = make_org("Voice desk")
    account = paper_account({"USDT": "1000"}, organization=organization, name="Voice one")
    trader = member(organization, "trader", username="trader-voice")
    device = totp_device(trader)
    connection.close()  # the browser's requests run in daphne, on their own connections
    return {"account": account, "trader": trader, "device": device}


def _log_in(page, base_url: str, next_path: str, device) -> None:
    page.goto(f"{base_url}{next_path}")
    page.fill("#id_username", "trader-voice")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code_for(device))
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def _widget_order(page) -> list[str]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('[data-widget]')).map(w => w.dataset.widget)"
    )


def test_voice_pause_after_confirmation_and_a_layout_that_persists(page, daphne_server, desk):
    account = desk["account"]
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    path = f"/dashboard/accounts/{account.pk}/"
    _log_in(page, daphne_server.base_url, path, desk["device"])

    # First visit: the tour opens by itself; skipping it is remembered by the server.
    page.wait_for_selector("#tour:not([hidden])", timeout=5_000)
    assert page.locator("#tour").get_attribute("data-step") == "1"
    page.click("#tour-next")
    assert page.locator("#tour").get_attribute("data-step") == "2"
    with page.expect_response("**/dashboard/preferences/tour/"):
        page.click("#tour-skip")
    assert page.locator("#tour").is_hidden()
    assert DashboardPreferences.objects.get(user=desk["trader"]).tour_completed_at is not None
    page.reload()
    page.wait_for_timeout(300)
    assert page.locator("#tour").is_hidden()
    # ... and it can be taken again from the `?` help overlay.
    page.keyboard.press("?")
    page.click("#tour-restart")
    assert page.locator("#help-overlay").is_hidden()
    assert page.locator("#tour").is_visible()
    page.click("#tour-skip")

    # Voice: an unknown phrase does nothing; "status" answers; "pausar" asks first.
    assert page.evaluate("spotdeskVoice.handle('good morning')") is None
    assert page.evaluate("spotdeskVoice.handle('Status')") == "status"
    assert "Active" in page.locator("#toast").inner_text()
    assert page.evaluate("spotdeskVoice.handle('pausar a conta')") == "pause"
    assert page.locator("#confirm-dialog").is_visible()
    page.click("#confirm-cancel")  # declined: nothing happens
    page.wait_for_timeout(300)
    assert ExchangeAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE

    assert page.evaluate("spotdeskVoice.handle('pause')") == "pause"
    assert page.locator("#confirm-dialog").is_visible()
    _shot(page, "voice-confirm")
    page.click("#confirm-ok")
    page.wait_for_selector('#account-status[data-status="paused"]', timeout=5_000)
    assert ExchangeAccount.objects.get(pk=account.pk).status == AccountStatus.PAUSED
    # Now paused, "pause" has nothing to press; Spanish "reanudar" resumes.
    assert page.evaluate("spotdeskVoice.handle('pause')") is None
    assert page.evaluate("spotdeskVoice.handle('reanudar')") == "resume"
    page.click("#confirm-ok")
    page.wait_for_selector('#account-status[data-status="active"]', timeout=5_000)
    assert ExchangeAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE

    # The overview: move "alerts" up and hide it, then reload: the layout is restored.
    page.click("#nav-overview")
    page.wait_for_url("**/dashboard/")
    default = _widget_order(page)
    assert default.index("accounts") < default.index("alerts")
    page.click("#layout-customize")
    alerts = page.locator('[data-widget="alerts"]')
    for _ in range(len(default)):
        if _widget_order(page)[0] == "alerts":
            break
        with page.expect_response("**/dashboard/preferences/layout/"):
            alerts.locator('.widget-tool[data-action="up"]').click()
    assert _widget_order(page)[0] == "alerts"
    with page.expect_response("**/dashboard/preferences/layout/"):
        alerts.locator('.widget-tool[data-action="toggle"]').click()
    _shot(page, "overview-customizing")

    page.reload()
    assert _widget_order(page)[0] == "alerts"
    assert page.locator('[data-widget="alerts"]').is_hidden()
    assert page.locator('[data-widget="accounts"]').is_visible()
    saved = DashboardPreferences.objects.get(user=desk["trader"]).layout
    assert saved["order"][0] == "alerts"
    assert saved["hidden"] == ["alerts"]
    assert errors == []


def test_offline_shows_the_last_state_read_only_and_logout_clears_the_caches(
    page, daphne_server, desk
):
    account = desk["account"]
    path = f"/dashboard/accounts/{account.pk}/"
    _log_in(page, daphne_server.base_url, path, desk["device"])
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now controlled by the worker, which caches this load
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    page.wait_for_function(
        "caches.open('spotdesk-dashboard-v1').then(c => c.match(location.href)).then(Boolean)",
        timeout=10_000,
    )

    page.context.set_offline(True)
    page.reload()
    assert page.locator("h1").inner_text().startswith("Voice one")  # from the cache
    assert page.locator("#offline-banner").is_visible()
    assert page.locator("#pause-button").is_disabled()
    _shot(page, "account-offline")
    page.context.set_offline(False)
    page.wait_for_selector("#offline-banner", state="hidden")
    assert page.locator("#pause-button").is_enabled()

    page.click("#logout-form button")
    page.wait_for_url("**/accounts/login/**")
    assert page.evaluate("caches.keys()") == []
