"""One error shape, validation naming field and rule, cursor pagination, filtering and
ordering."""

import pytest

from apps.accounts.models import AccountStatus, ExchangeAccount, Organization
from apps.audit.models import AuditEvent
from tests.accounts.factories import make_account
from tests.api.conftest import error_of, session_client

pytestmark = pytest.mark.django_db


def test_unauthenticated_is_401_with_the_scheme_named(client):
    response = client.get("/api/v1/organizations/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert error_of(response)["code"] == "not_authenticated"


def test_serializer_validation_names_each_field_and_rule(desk):
    before = ExchangeAccount.objects.count()
    response = session_client(desk.admin).post(
        "/api/v1/exchange-accounts/",
        {"organization": desk.org.pk, "environment": "moon", "name": ""},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) >= {"environment", "name", "api_key", "secret"}
    assert "moon" in error["fields"]["environment"][0]
    assert ExchangeAccount.objects.count() == before


def test_service_validation_names_the_field_and_changes_nothing(desk):
    account = make_account(desk.org)
    response = session_client(desk.admin).patch(
        f"/api/v1/exchange-accounts/{account.pk}/",
        {"valuation_currency": "us dollars"},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["fields"] == {"valuation_currency": ["must be an asset symbol such as USDT"]}
    account.refresh_from_db()
    assert account.valuation_currency == "USDT"


def test_kill_without_confirmation_is_refused(desk):
    account = make_account(desk.org)
    ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
    response = session_client(desk.viewer).post(
        f"/api/v1/exchange-accounts/{account.pk}/kill/",
        {"confirm": False},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["confirm"]
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_state_conflicts_are_409(desk):
    account = make_account(desk.org)  # paused
    response = session_client(desk.trader).post(f"/api/v1/exchange-accounts/{account.pk}/pause/")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_django_validation_from_a_service_keeps_the_field(db):
    from tests.accounts.factories import make_user

    staff = make_user(superuser=True)
    response = session_client(staff).post(
        "/api/v1/risk-profiles/",
        {"name": "bad", "overrides": {"risk_per_trade": "0.5"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert "risk_per_trade" in error["fields"]
    created = session_client(staff).post(
        "/api/v1/risk-profiles/",
        {"name": "careful", "preset": "conservative", "overrides": {"risk_per_trade": "0.005"}},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["risk_per_trade"] == "0.005000"  # decimals are strings
    assert created.json()["preset"] == "custom"


def test_malformed_json_and_wrong_method(desk):
    client = session_client(desk.admin)
    bad = client.post("/api/v1/memberships/", "{nope", content_type="application/json")
    assert bad.status_code == 400
    assert error_of(bad)["code"] == "parse_error"
    wrong = client.put(f"/api/v1/organizations/{desk.org.pk}/", {}, content_type="application/json")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"


def test_cursor_pagination_walks_every_row_once(desk):
    for n in range(7):
        make_account(desk.org, name=f"acct {n}")
    client = session_client(desk.viewer)
    seen, url, pages = [], "/api/v1/exchange-accounts/?page_size=3", 0
    while url:
        body = client.get(url).json()
        assert set(body) == {"next", "previous", "results"}
        assert len(body["results"]) <= 3
        seen += [r["id"] for r in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3
    assert seen == sorted(seen, reverse=True)  # newest first by default
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("size", ["0", "201", "-1", "ten", ""])
def test_page_size_is_bounded(desk, size):
    response = session_client(desk.admin).get(f"/api/v1/audit-events/?page_size={size}")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"page_size": ["must be a whole number from 1 to 200"]}


def test_a_forged_cursor_is_an_error_not_a_crash(desk):
    response = session_client(desk.viewer).get("/api/v1/organizations/?cursor=garbage")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_filters_and_ordering(desk):
    make_account(desk.org, name="b")
    paper = make_account(desk.org, name="a")
    live = make_account(desk.org, name="c", environment="live")
    client = session_client(desk.viewer)
    rows = client.get("/api/v1/exchange-accounts/?environment=live").json()["results"]
    assert [r["id"] for r in rows] == [live.pk]
    rows = client.get("/api/v1/exchange-accounts/?ordering=id").json()["results"]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert paper.pk in [r["id"] for r in rows]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("environment=moon", "environment"),
        ("organization=abc", "organization"),
        ("ordering=secret", "ordering"),
        ("ordering=id,name", "ordering"),
    ],
)
def test_bad_filters_name_the_parameter(desk, query, field):
    response = session_client(desk.viewer).get(f"/api/v1/exchange-accounts/?{query}")
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [field]


def test_audit_filters(desk):
    account = make_account(desk.org)
    client = session_client(desk.admin)
    rows = client.get(
        f"/api/v1/audit-events/?action=exchange_account.created&object_id={account.pk}"
    ).json()["results"]
    assert [r["object_id"] for r in rows] == [str(account.pk)]
    since = AuditEvent.objects.order_by("-occurred_at").first().occurred_at.isoformat()
    assert client.get("/api/v1/audit-events/", {"since": since}).status_code == 200
    bad = client.get("/api/v1/audit-events/?since=yesterday")
    assert bad.status_code == 400
    assert list(error_of(bad)["fields"]) == ["since"]


def test_organization_list_ordering_by_name(db):
    from tests.accounts.factories import make_user

    staff = make_user(superuser=True)
    for name in ("Zulu desk", "Alpha desk"):
        Organization.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    rows = session_client(staff).get("/api/v1/organizations/?ordering=name").json()["results"]
    names = [r["name"] for r in rows]
    assert names == sorted(names)


def test_strategy_catalogue_renders_json_schema(desk):
    client = session_client(desk.viewer)
    rows = client.get("/api/v1/strategies/").json()
    assert rows, "the registry has built-in strategies"
    first = rows[0]
    assert first["parameters"]["type"] == "object"
    one = client.get(f"/api/v1/strategies/{first['key']}/")
    assert one.status_code == 200
    assert one.json()["key"] == first["key"]
    missing = client.get("/api/v1/strategies/no-such-strategy/")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
