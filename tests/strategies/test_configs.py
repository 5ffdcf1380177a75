"""Strategy configurations: schema validation, scoping, pause/resume with audit."""

import pytest

from apps.accounts.actors import Actor
from apps.audit.models import AuditEvent
from apps.core.errors import NotFound, PermissionDenied, ValidationError
from apps.strategies import services
from apps.strategies.engine import registry
from apps.strategies.models import StrategyConfig
from apps.strategies.services import ParameterValidationError
from tests.accounts.factories import make_org, member, verified
from tests.trading.support import active_account, make_config, sync_default_symbols

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    sync_default_symbols()
    return active_account(make_org())


def create(account, actor=None, **overrides):
    kwargs = dict(
        actor=actor or Actor.for_system(),
        account=account,
        name="trend",
        strategy="trend_following",
        symbols=["BTCUSDT"],
        interval="1h",
        params={},
    )
    kwargs.update(overrides)
    return services.create_strategy_config(**kwargs)


def test_params_are_validated_and_completed_by_the_schema(account):
    config = create(account, params={"fast": 10, "slow": 40})
    assert config.params["fast"] == 10
    assert config.params["slow"] == 40
    # Every other parameter takes the schema's default.
    assert set(config.params) == set(registry.get("trend_following").schema.defaults())
    assert config.strategy_version == "1.0"
    assert not config.enabled


def test_every_broken_parameter_is_named(account):
    with pytest.raises(ParameterValidationError) as caught:
        create(account, params={"fast": 0, "bogus": 1})
    assert set(caught.value.errors) == {"params.fast", "params.bogus"}
    assert caught.value.field in caught.value.errors
    with pytest.raises(ParameterValidationError) as caught:
        create(account, params={"fast": 50, "slow": 20})
    assert caught.value.errors == {"params.fast": "must be below slow"}
    assert not StrategyConfig.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"strategy": "nope"}, "strategy"),
        ({"symbols": []}, "symbols"),
        ({"symbols": ["BTCUSDT", "BTCUSDT"]}, "symbols[1]"),
        ({"symbols": ["DOGEUSDT"]}, "symbols[0]"),
        ({"interval": "7m"}, "interval"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(account, overrides, field):
    with pytest.raises(ValidationError) as caught:
        create(account, **overrides)
    assert caught.value.field == field
    assert not StrategyConfig.objects.exists()
    assert not AuditEvent.objects.filter(action="strategy_config.created").exists()


def test_symbols_must_exist_in_the_accounts_environment(account):
    live = active_account(account.organization, environment="live")
    with pytest.raises(ValidationError) as caught:
        create(live)
    assert caught.value.field == "symbols[0]"


def test_pause_and_resume_are_audited_and_need_the_trade_role(account):
    trader = member(account.organization, "trader")
    viewer = member(account.organization, "viewer")
    config = create(account, actor=verified(trader))
    assert services.resume_strategy_config(actor=verified(trader), config=config)
    assert not services.resume_strategy_config(actor=verified(trader), config=config)
    with pytest.raises(PermissionDenied):
        services.pause_strategy_config(actor=verified(viewer), config=config)
    assert services.pause_strategy_config(actor=verified(trader), config=config, reason="news")
    config.refresh_from_db()
    assert not config.enabled
    assert config.paused_reason == "news"
    actions = list(
        AuditEvent.objects.filter(object_type="strategies.strategyconfig", object_id=str(config.pk))
        .order_by("sequence")
        .values_list("action", "actor_username")
    )
    assert actions == [
        ("strategy_config.created", trader.username),
        ("strategy_config.resumed", trader.username),
        ("strategy_config.paused", trader.username),
    ]


def test_another_organization_cannot_see_the_config(account):
    config = create(account)
    stranger = member(make_org(), "admin")
    with pytest.raises(NotFound):
        services.pause_strategy_config(actor=verified(stranger), config=config)
    assert not StrategyConfig.objects.for_user(stranger).exists()


def test_update_revalidates_and_records_the_difference(account):
    config = make_config(account)
    services.update_strategy_config(
        actor=Actor.for_system(), config=config, params={"fast": 5}, symbols=["ETHUSDT"]
    )
    config.refresh_from_db()
    assert config.symbols == ["ETHUSDT"]
    assert config.params["fast"] == 5
    event = AuditEvent.objects.get(action="strategy_config.updated")
    assert event.changes["symbols"] == {"before": ["BTCUSDT"], "after": ["ETHUSDT"]}
    with pytest.raises(ParameterValidationError):
        services.update_strategy_config(
            actor=Actor.for_system(), config=config, params={"fast": -1}
        )
    config.refresh_from_db()
    assert config.params["fast"] == 5
