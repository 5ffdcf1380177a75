"""The risk profile's liquidity limits: stored, converted to the engine, validated on
the field with the rule, created through the service and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.risk.models import RiskProfile
from apps.risk.services import create_risk_profile

D = Decimal


def test_the_limits_are_off_by_default_and_reach_the_engine():
    assert RiskProfile(name="x").to_engine_config().max_spread_bps is None
    config = RiskProfile(
        name="x", max_spread_bps=D("5"), max_slippage_bps=D("12.5")
    ).to_engine_config()
    assert (config.max_spread_bps, config.max_slippage_bps) == (D(5), D("12.5"))


@pytest.mark.parametrize("field", ["max_spread_bps", "max_slippage_bps"])
@pytest.mark.parametrize(
    ("value", "message"),
    [(D(0), "greater than or equal to 0.01"), (D(20_000), "less than or equal to 10000")],
)
def test_bad_limits_are_reported_on_their_field_with_the_rule(field, value, message):
    profile = RiskProfile(name="bad", **{field: value})
    with pytest.raises(ValidationError) as info:
        profile.full_clean(exclude=["id"])
    assert any(message in m for m in info.value.message_dict[field])


def test_the_engine_rule_is_named_on_the_field_too():
    # Past the model's validators (e.g. a value set in code), the engine refuses it.
    profile = RiskProfile(name="bad", max_slippage_bps=D("-1"))
    with pytest.raises(ValidationError) as info:
        profile.clean()
    assert info.value.message_dict == {
        "max_slippage_bps": ["max_slippage_bps: must be in (0, 10000]"]
    }


@pytest.mark.django_db
def test_created_with_limits_through_the_service_and_the_api():
    from tests.accounts.factories import make_user
    from tests.api.conftest import error_of, session_client

    profile = create_risk_profile(name="thin markets", overrides={"max_spread_bps": "8"})
    assert RiskProfile.objects.get(pk=profile.pk).max_spread_bps == D(8)
    staff = session_client(make_user(superuser=True))
    created = staff.post(
        "/api/v1/risk-profiles/",
        {"name": "api", "overrides": {"max_spread_bps": "5", "max_slippage_bps": "20"}},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert (created.json()["max_spread_bps"], created.json()["max_slippage_bps"]) == (
        "5.00",
        "20.00",
    )
    refused = staff.post(
        "/api/v1/risk-profiles/",
        {"name": "bad", "overrides": {"max_slippage_bps": "0"}},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "max_slippage_bps" in error_of(refused)["fields"]
