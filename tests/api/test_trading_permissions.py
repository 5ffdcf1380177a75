"""Every trading endpoint by role (viewer, trader, risk officer, admin) and for a member
of another organization, who gets 404 and never a trace of the object."""

import json

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import AccountStatus, ExchangeAccount
from tests.accounts.factories import code_for
from tests.api.conftest import Desk, error_of, session_client, token_client, token_for
from tests.api.trading_world import TradingWorld

pytestmark = pytest.mark.django_db

ROLES = ["viewer", "trader", "risk_officer", "admin"]
ALL = set(ROLES)
TRADE = {"trader", "admin"}
RISK = {"risk_officer", "admin"}

READS = [
    ("orders", "/api/v1/orders/"),
    ("order", "/api/v1/orders/{order}/"),
    ("fills", "/api/v1/fills/"),
    ("fill", "/api/v1/fills/{fill}/"),
    ("positions", "/api/v1/positions/"),
    ("position", "/api/v1/positions/{position}/"),
    ("trades", "/api/v1/trades/"),
    ("trade", "/api/v1/trades/{trade}/"),
    ("cash flows", "/api/v1/cash-flows/"),
    ("cash flow", "/api/v1/cash-flows/{cash_flow}/"),
    ("equity", "/api/v1/equity/"),
    ("equity point", "/api/v1/equity/{equity}/"),
    ("decisions", "/api/v1/decisions/"),
    ("decision", "/api/v1/decisions/{decision}/"),
    ("configs", "/api/v1/strategy-configs/"),
    ("config", "/api/v1/strategy-configs/{config}/"),
    ("kpis", "/api/v1/kpis/{account}/"),
    ("kill switches", "/api/v1/kill-switches/"),
    ("kill switch", "/api/v1/kill-switches/{switch}/"),
    ("go-live requests", "/api/v1/go-live-requests/"),
    ("go-live request", "/api/v1/go-live-requests/{go_live}/"),
    ("go-live checklist", "/api/v1/go-live-requests/{go_live}/checklist/"),
]

# (name, path, body, account status before, roles allowed, status when allowed)
WRITES = [
    (
        "config create",
        "/api/v1/strategy-configs/",
        {
            "account": "{account}",
            "name": "fresh",
            "strategy": "trend_following",
            "symbols": ["BTCUSDT"],
            "interval": "1h",
        },
        None,
        TRADE,
        201,
    ),
    ("config rename", "/api/v1/strategy-configs/{config}/", {"name": "renamed"}, None, TRADE, 200),
    ("config resume", "/api/v1/strategy-configs/{config}/resume/", {}, None, TRADE, 200),
    ("config pause", "/api/v1/strategy-configs/{config}/pause/", {}, None, TRADE, 200),
    (
        "kill switch press",
        "/api/v1/kill-switches/",
        {"scope": "account", "account": "{account}", "reason": "r"},
        None,
        ALL,
        201,
    ),
    ("kill switch flatten", "/api/v1/kill-switches/{switch}/flatten/", {}, None, ALL, 200),
    ("kill switch release", "/api/v1/kill-switches/{switch}/release/", {}, None, RISK, 200),
    (
        "flatten account",
        "/api/v1/exchange-accounts/{account}/flatten/",
        {"confirm": True},
        "active",
        ALL,
        201,
    ),
    (
        "resume halted",
        "/api/v1/exchange-accounts/{account}/resume-halted/",
        {"otp_code": "{code}"},
        "halted",
        RISK,
        200,
    ),
    # Allowed roles reach the price check (0 is refused before the exchange is asked).
    (
        "move stop",
        "/api/v1/positions/{position}/move-stop/",
        {"stop_price": "0"},
        None,
        TRADE,
        400,
    ),
    # Allowed roles would reach the exchange: tests/api/test_trading_positions.py.
    ("close", "/api/v1/positions/{position}/close/", {}, None, TRADE, None),
    ("cancel ladder", "/api/v1/positions/{position}/cancel-ladder/", {}, None, TRADE, None),
    (
        "go-live request",
        "/api/v1/go-live-requests/",
        {"paper_config": "{other_config}", "live_account": "{live}"},
        None,
        TRADE,
        201,
    ),
    ("go-live withdraw", "/api/v1/go-live-requests/{go_live}/withdraw/", {}, None, TRADE, 200),
    # Allowed roles get past the role and the code to the checklist, which is not met.
    (
        "go-live approve",
        "/api/v1/go-live-requests/{go_live}/approve/",
        {"otp_code": "{code}"},
        None,
        RISK,
        409,
    ),
]


PATCHED = {"config rename"}  # every other write is a POST


def _send(client, name, path, body):
    method = client.patch if name in PATCHED else client.post
    return method(path, data=body, content_type="application/json")


def fill_in(value, names: dict):
    text = json.dumps(value)
    for key, replacement in names.items():
        text = text.replace("{" + key + "}", str(replacement))
    return json.loads(text)


def _code(user) -> str:
    return code_for(TOTPDevice.objects.get(user=user))


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_every_trading_resource(role):
    world = TradingWorld()
    client = session_client(world.desk.user(role))
    for name, path in READS:
        response = client.get(fill_in(path, world.ids()))
        assert response.status_code == 200, (name, role, response.content)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", WRITES, ids=[c[0] for c in WRITES])
def test_each_trading_action_by_role(case, role):
    name, path, body, status_before, allowed, success = case
    if role in allowed and success is None:
        pytest.skip("reaches the exchange: covered with the paper exchange")
    world = TradingWorld()
    user = world.desk.user(role)
    client = session_client(user)
    if status_before:
        ExchangeAccount.objects.filter(pk=world.account.pk).update(status=status_before)
    names = {**world.ids(), "code": _code(user)}
    response = _send(client, name, fill_in(path, names), fill_in(body, names))
    if role in allowed:
        assert response.status_code == success, (name, role, response.content)
        if success >= 400:
            assert error_of(response)["code"] in ("validation_error", "go_live_checklist_not_met")
    else:
        assert response.status_code == 403, (name, role, response.content)
        assert error_of(response)["code"] == "permission_denied"


OBJECT_READS = [r for r in READS if "{" in r[1]]
OBJECT_WRITES = [w for w in WRITES if "{" in w[1]]


def test_another_organizations_admin_finds_nothing():
    world = TradingWorld()
    stranger = Desk()
    client = session_client(stranger.admin)
    names = {**world.ids(), "code": _code(stranger.admin)}
    for name, path in OBJECT_READS:
        response = client.get(fill_in(path, names))
        assert response.status_code == 404, (name, response.content)
        assert error_of(response)["code"] == "not_found"
        assert world.desk.org.name not in response.content.decode()
    for name, path, body, status_before, _allowed, _success in OBJECT_WRITES:
        if status_before:
            ExchangeAccount.objects.filter(pk=world.account.pk).update(status=status_before)
        response = _send(client, name, fill_in(path, names), fill_in(body, names))
        if path == "/api/v1/strategy-configs/":  # a body naming their account
            assert response.status_code == 400, (name, response.content)
            continue
        assert response.status_code in (400, 404), (name, response.content)
        if response.status_code == 400:
            # Only the collection routes take the foreign id in the body.
            assert "{" not in path.split("api/v1/")[1].split("/")[1], name
        assert world.desk.org.name not in response.content.decode()
    assert ExchangeAccount.objects.get(pk=world.account.pk).status == AccountStatus.HALTED


def test_lists_show_only_the_callers_organization():
    mine, theirs = TradingWorld(), TradingWorld()
    client = session_client(mine.desk.viewer)
    for path in (
        "/api/v1/orders/",
        "/api/v1/fills/",
        "/api/v1/positions/",
        "/api/v1/trades/",
        "/api/v1/cash-flows/",
        "/api/v1/equity/",
        "/api/v1/decisions/",
        "/api/v1/strategy-configs/",
    ):
        rows = client.get(path).json()["results"]
        assert rows, path
        accounts = {r["account"] for r in rows}
        assert accounts <= {mine.account.pk, mine.spare.pk}, path
        assert not accounts & {theirs.account.pk, theirs.spare.pk}, path
    switches = client.get("/api/v1/kill-switches/").json()["results"]
    assert {s["organization"] for s in switches} == {mine.desk.org.pk}
    requests = client.get("/api/v1/go-live-requests/").json()["results"]
    assert {r["live_account"] for r in requests} == {mine.live.pk}


def test_token_scopes_read_for_gets_trade_for_actions_admin_for_go_live_approval():
    world = TradingWorld()
    read = token_client(token_for(world.desk.admin, "read"))
    trade = token_client(token_for(world.desk.admin, "trade"))
    assert read.get("/api/v1/orders/").status_code == 200
    pause = f"/api/v1/strategy-configs/{world.config.pk}/resume/"
    refused = read.post(pause, content_type="application/json")
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "permission_denied"
    assert trade.post(pause, content_type="application/json").status_code == 200
    approve = trade.post(
        f"/api/v1/go-live-requests/{world.go_live.pk}/approve/",
        {"otp_code": "123456"},
        content_type="application/json",
    )
    assert approve.status_code == 403
