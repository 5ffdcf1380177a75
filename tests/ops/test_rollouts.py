"""Safe rollouts: a canary promoted, a canary rolled back, blue-green on paper, KPIs."""

import time

import pytest

from apps.accounts.actors import Actor
from apps.audit.models import AuditEvent
from apps.core.errors import ConflictError, PermissionDenied, ValidationError
from apps.operations import rollout_kpis, rollouts
from apps.operations.models import MemberRole, Rollout
from apps.strategies.models import StrategyConfig
from apps.strategies.services import ParameterValidationError
from tests.accounts.factories import make_account, make_org, member, verified
from tests.trading.support import fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db
SYSTEM = Actor.for_system()
OLD = {"fast": 12, "slow": 26}
NEW = {"fast": 8, "slow": 21}


@pytest.fixture
def fleet():
    """Six accounts running trend_following with the current parameters, one on dca."""
    sync_default_symbols()
    org = make_org("Fleet")
    configs = [
        make_config(make_account(org, name=f"acct {i}"), name="trend", params=OLD) for i in range(6)
    ]
    other = make_config(configs[0].account, name="dca", strategy="dca")
    return org, configs, other


def params_by_account(org):
    return {
        c.account.name: (c.params["fast"], c.params["slow"], c.strategy_version)
        for c in StrategyConfig.objects.filter(
            account__organization=org, strategy="trend_following"
        )
    }


def start(org, name="faster ema", fraction="0.34", actor=SYSTEM):
    return rollouts.start_canary(
        actor=actor, organization=org, name=name, strategy="trend_following",
        params=NEW, fraction=fraction,
    )  # fmt: skip


def test_canary_pick_is_deterministic_and_keeps_a_control_group():
    ids = list(range(1, 11))
    assert rollouts.canary_pick(ids, 0.3, salt="a") == rollouts.canary_pick(ids, 0.3, salt="a")
    assert len(rollouts.canary_pick(ids, 0.3, salt="a")) == 3
    assert len(rollouts.canary_pick(ids, 0.01, salt="a")) == 1  # at least one
    assert len(rollouts.canary_pick(ids, 0.99, salt="a")) == 9  # never all
    picks = {tuple(rollouts.canary_pick(ids, 0.3, salt=s)) for s in "abcdefgh"}
    assert len(picks) > 1  # each rollout picks its own


def test_canary_then_promotion(fleet):
    org, configs, other = fleet
    other_params = dict(other.params)
    rollout = start(org)
    canaries = set(rollout.members.filter(role=MemberRole.CANARY).values_list("config", flat=True))
    assert len(canaries) == 3  # ceil(0.34 * 6)
    after_start = params_by_account(org)
    for config in configs:
        expected = (8, 21) if config.pk in canaries else (12, 26)
        assert after_start[config.account.name][:2] == expected
    assert rollout.members.filter(role=MemberRole.CONTROL).count() == 3

    rollouts.promote(actor=SYSTEM, rollout=rollout)
    rollout.refresh_from_db()
    assert rollout.state == "promoted"
    assert rollout.finished_by == "system"
    assert set(params_by_account(org).values()) == {(8, 21, "1.0")}
    other.refresh_from_db()
    assert other.params == other_params  # another strategy: untouched
    assert other.strategy == "dca"

    event = AuditEvent.objects.get(action="rollout.promoted")
    assert event.organization_id == org.pk
    assert sorted(event.changes["configs_updated"]) == sorted(
        c.pk for c in configs if c.pk not in canaries
    )
    assert event.changes["kpis"]["candidate"]["configs"] == 3
    updates = AuditEvent.objects.filter(action="strategy_config.updated")
    assert updates.count() == 6  # three at the start, three at promotion
    with pytest.raises(ConflictError):
        rollouts.rollback(actor=SYSTEM, rollout=rollout)


def test_canary_then_rollback_restores_exactly_what_ran_before(fleet):
    org, configs, _other = fleet
    before = params_by_account(org)
    StrategyConfig.objects.filter(pk=configs[1].pk).update(strategy_version="0.9")  # older
    before[configs[1].account.name] = (12, 26, "0.9")
    rollout = start(org, fraction="0.5")
    assert params_by_account(org) != before

    rollouts.rollback(actor=SYSTEM, rollout=rollout)
    assert params_by_account(org) == before
    rollout.refresh_from_db()
    assert rollout.state == "rolled_back"
    event = AuditEvent.objects.get(action="rollout.rolled_back")
    canaries = rollout.members.filter(role=MemberRole.CANARY).values_list("config", flat=True)
    assert sorted(event.changes["configs_restored"]) == sorted(canaries)
    assert AuditEvent.objects.filter(action="strategy_config.restored").count() == 3
    with pytest.raises(ConflictError):
        rollouts.promote(actor=SYSTEM, rollout=rollout)
    # A finished rollout frees the strategy for the next one.
    assert start(org, name="second try").state == "running"


def test_one_running_rollout_per_strategy_and_validated_input(fleet):
    org, _configs, _other = fleet
    start(org)
    with pytest.raises(ConflictError):
        start(org, name="another")
    with pytest.raises(ValidationError) as caught:
        start(org, name="x", fraction="1")
    assert caught.value.field == "fraction"
    with pytest.raises(ParameterValidationError) as caught:
        rollouts.start_canary(
            actor=SYSTEM, organization=org, name="y", strategy="trend_following",
            params={"fast": 0}, fraction="0.5",
        )  # fmt: skip
    assert "params.fast" in caught.value.errors
    assert Rollout.objects.count() == 1


def test_a_viewer_may_not_start_a_rollout(fleet):
    org, _configs, _other = fleet
    viewer = member(org, "viewer")
    with pytest.raises(PermissionDenied):
        start(org, actor=verified(viewer))
    trader = member(org, "trader")
    assert start(org, actor=verified(trader)).started_by == trader.username


def _round_trip(config, buy, sell):
    ms = int(time.time() * 1000)
    fill(order_for(config, side="BUY"), price=buy, quantity="1", time_ms=ms)
    fill(order_for(config, side="SELL", intent="exit"), price=sell, quantity="1", time_ms=ms + 1)


def test_kpis_compare_canaries_with_controls(fleet):
    org, configs, _other = fleet
    rollout = start(org, fraction="0.5")
    canary_ids = set(
        rollout.members.filter(role=MemberRole.CANARY).values_list("config", flat=True)
    )
    canaries = [c for c in configs if c.pk in canary_ids]
    controls = [c for c in configs if c.pk not in canary_ids]
    _round_trip(canaries[0], "100", "110")
    _round_trip(canaries[1], "100", "95")
    _round_trip(controls[0], "100", "98")
    kpis = rollout_kpis.compare(rollout)
    assert kpis["candidate"]["trades"] == 2
    assert kpis["candidate"]["win_rate"] == "0.500000"
    assert kpis["candidate"]["profit_factor"] == "2.000000"
    assert kpis["baseline"]["trades"] == 1
    assert kpis["baseline"]["win_rate"] == "0.000000"
    assert kpis["baseline"]["configs"] == 3


def test_blue_green_runs_the_candidate_on_paper_beside_live(fleet):
    org, configs, _other = fleet
    StrategyConfig.objects.filter(pk__in=[c.pk for c in configs]).update(strategy_version="1.0")
    live = make_account(org, name="live one", environment="live")
    sync_default_symbols("live")
    live_config = make_config(live, name="trend", params=OLD)
    paper = make_account(org, name="sandbox")
    rollout = rollouts.start_blue_green(
        actor=SYSTEM, organization=org, name="bg", strategy="trend_following",
        params=NEW, paper_account=paper,
    )  # fmt: skip
    candidate = StrategyConfig.objects.get(account=paper)
    assert candidate.enabled
    assert candidate.params["fast"] == 8
    assert list(
        rollout.members.filter(role=MemberRole.CONTROL).values_list("config", flat=True)
    ) == [live_config.pk]
    assert params_by_account(org)["live one"][:2] == (12, 26)  # live untouched
    rollouts.promote(actor=SYSTEM, rollout=rollout)
    live_config.refresh_from_db()
    candidate.refresh_from_db()
    assert live_config.params["fast"] == 8
    assert not candidate.enabled
    with pytest.raises(ValidationError):
        rollouts.start_blue_green(
            actor=SYSTEM, organization=org, name="bg2", strategy="trend_following",
            params=NEW, paper_account=live,
        )  # fmt: skip


def test_admin_shows_the_comparison_and_promotes(fleet, client):
    from django.contrib.auth import get_user_model

    org, _configs, _other = fleet
    rollout = start(org)
    admin_user = get_user_model().objects.create_superuser("root", "r@example.com", "pw-12345678!")
    from tests.accounts.factories import otp_login

    otp_login(client, admin_user)
    page = client.get(f"/admin/operations/rollout/{rollout.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "KPI comparison" in body
    assert "round trips" in body
    response = client.post(
        "/admin/operations/rollout/",
        {"action": "promote", "_selected_action": [rollout.pk]},
    )
    assert response.status_code == 302
    rollout.refresh_from_db()
    assert rollout.state == "promoted"
