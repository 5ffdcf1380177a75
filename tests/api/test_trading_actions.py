"""Trading actions over the API change state through the services: the kill switch
(no step-up to press, risk role and a code to release), flatten, resuming a halted
account, going live; each audited, and refused input changes nothing."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.audit.models import AuditEvent
from apps.strategies.models import StrategyConfig
from apps.trading.models import GoLiveRequest, KillSwitch
from tests.accounts.factories import code_for, totp_device
from tests.api.conftest import error_of, session_client, token_client, token_for
from tests.api.trading_world import TradingWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return TradingWorld()


def _code(user) -> str:
    return code_for(TOTPDevice.objects.get(user=user))


def _post(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", **headers)


def test_any_member_presses_the_account_kill_switch_without_step_up(world):
    stale = session_client(world.desk.viewer, fresh=False)
    response = _post(
        stale,
        "/api/v1/kill-switches/",
        {"scope": "account", "account": world.account.pk, "reason": "fat finger"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["enforcement"] == "done"
    assert body["switch"]["engaged"] is True
    assert body["switch"]["engaged_by"] == world.desk.viewer.username
    switch = KillSwitch.objects.get(pk=body["switch"]["id"])
    assert switch.account_id == world.account.pk
    assert switch.reason == "fat finger"
    event = AuditEvent.objects.get(action="kill_switch.engaged", object_id=str(switch.pk))
    assert event.actor_username == world.desk.viewer.username


def test_kill_switch_input_names_the_field_and_changes_nothing(world):
    client = session_client(world.desk.trader)
    before = KillSwitch.objects.count()
    missing = _post(client, "/api/v1/kill-switches/", {"scope": "account"})
    assert missing.status_code == 400
    assert error_of(missing)["fields"] == {"account": ["is required for an account kill switch"]}
    global_ = _post(client, "/api/v1/kill-switches/", {"scope": "global"})
    assert set(error_of(global_)["fields"]) == {"scope"}
    assert KillSwitch.objects.count() == before


def test_release_needs_the_risk_role_and_a_fresh_code(world):
    url = f"/api/v1/kill-switches/{world.switch.pk}/release/"
    officer = world.desk.risk_officer
    stale = session_client(officer, fresh=False)
    refused = _post(stale, url)
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "step_up_required"
    wrong = _post(stale, url, {"otp_code": "000000"})
    assert wrong.status_code == 400
    assert set(error_of(wrong)["fields"]) == {"otp_code"}
    assert KillSwitch.objects.get(pk=world.switch.pk).engaged

    released = _post(stale, url, {"otp_code": _code(officer)})
    assert released.status_code == 200, released.content
    assert released.json()["engaged"] is False
    assert released.json()["released_by"] == officer.username
    assert AuditEvent.objects.filter(action="kill_switch.released").count() == 1
    again = _post(session_client(officer), url)
    assert again.status_code == 409


def test_flatten_needs_confirmation_and_presses_the_switch_with_flatten(world):
    client = session_client(world.desk.trader)
    url = f"/api/v1/exchange-accounts/{world.account.pk}/flatten/"
    refused = _post(client, url, {"confirm": False})
    assert error_of(refused)["fields"] == {"confirm": ["must be true to sell every open position"]}
    assert not KillSwitch.objects.filter(account=world.account).exists()
    done = _post(client, url, {"confirm": True, "reason": "exit all"})
    assert done.status_code == 201, done.content
    switch = KillSwitch.objects.get(account=world.account, released_at__isnull=True)
    assert switch.flatten is True
    # Flatten on the organization's engaged switch adds it there (enforced by a task).
    added = _post(client, f"/api/v1/kill-switches/{world.switch.pk}/flatten/")
    assert added.json()["enforcement"] == "queued"
    assert KillSwitch.objects.get(pk=world.switch.pk).flatten is True
    assert AuditEvent.objects.filter(action="kill_switch.flatten_added").count() == 1


def test_a_halted_account_resumes_only_with_the_risk_role_and_a_code(world):
    ExchangeAccount.objects.filter(pk=world.account.pk).update(status=AccountStatus.HALTED)
    url = f"/api/v1/exchange-accounts/{world.account.pk}/resume-halted/"
    officer = world.desk.risk_officer
    client = session_client(officer, fresh=False)
    assert error_of(_post(client, url))["fields"] == {"otp_code": ["This field is required."]}
    trader = _post(session_client(world.desk.trader), url, {"otp_code": "123456"})
    assert trader.status_code == 403
    assert ExchangeAccount.objects.get(pk=world.account.pk).status == AccountStatus.HALTED

    resumed = _post(client, url, {"otp_code": _code(officer)})
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["status"] == AccountStatus.ACTIVE
    event = AuditEvent.objects.get(action="exchange_account.resumed")
    assert event.actor_username == officer.username
    again = _post(client, url, {"otp_code": _code(officer)})
    assert again.status_code == 409


def test_go_live_request_checklist_and_a_refused_approval(world):
    trader = session_client(world.desk.trader)
    created = _post(
        trader,
        "/api/v1/go-live-requests/",
        {"paper_config": world.other_config.pk, "live_account": world.live.pk, "name": "go"},
    )
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    assert created.json()["status"] == "pending"
    assert AuditEvent.objects.filter(action="go_live.requested").count() == 2  # world's too
    wrong = _post(
        trader,
        "/api/v1/go-live-requests/",
        {"paper_config": world.other_config.pk, "live_account": world.account.pk},
    )
    assert error_of(wrong)["fields"] == {"live_account": ["must be a live account"]}

    checklist = trader.get(f"/api/v1/go-live-requests/{request_id}/checklist/").json()
    assert checklist["met"] is False
    assert {"key", "label", "met", "value", "target"} <= set(checklist["items"][0])

    officer = world.desk.risk_officer
    refused = _post(
        session_client(officer),
        f"/api/v1/go-live-requests/{request_id}/approve/",
        {"otp_code": _code(officer)},
    )
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "go_live_checklist_not_met"
    assert error_of(refused)["message"].startswith("the go-live checklist is not met")
    assert GoLiveRequest.objects.get(pk=request_id).status == "pending"
    assert not StrategyConfig.objects.filter(account=world.live).exists()

    withdrawn = _post(trader, f"/api/v1/go-live-requests/{request_id}/withdraw/")
    assert withdrawn.json()["status"] == "withdrawn"
    assert AuditEvent.objects.filter(action="go_live.withdrawn").count() == 1


def test_a_token_steps_up_with_the_x_otp_code_header(world):
    officer = world.desk.risk_officer
    totp_device(officer)
    client = token_client(token_for(officer, "trade"))
    url = f"/api/v1/kill-switches/{world.switch.pk}/release/"
    refused = _post(client, url)
    assert error_of(refused)["code"] == "step_up_required"
    released = _post(client, url, HTTP_X_OTP_CODE=_code(officer))
    assert released.status_code == 200, released.content
    assert released.json()["engaged"] is False
