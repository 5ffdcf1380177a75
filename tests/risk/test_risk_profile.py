"""RiskProfile: defaults from the issue, presets, validation, conversion to the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils.functional import Promise

from apps.audit.models import AuditEvent
from apps.risk.engine import LadderStep, Outcome, RiskConfig, evaluate_entry
from apps.risk.engine.state import AccountState, TradeProposal
from apps.risk.models import Preset, RiskProfile
from apps.risk.services import create_risk_profile

D = Decimal


def test_defaults_are_the_seed_documents_and_match_the_engine():
    config = RiskProfile(name="x").to_engine_config()
    assert config == RiskConfig(sector_caps=config.sector_caps)  # same values as engine defaults
    assert config.risk_per_trade == D("0.01")
    assert config.max_drawdown == D("0.15")
    assert config.drawdown_mode == "halt"
    assert config.correlation_cap == D("0.8")
    assert dict(config.sector_caps) == {
        "DEFI": D("0.30"), "MEME": D("0.10"), "LAYER1": D("0.40"), "STABLECOIN": D("0.20")
    }  # fmt: skip
    assert config.min_reward_risk == D(2)
    assert config.reserved_balance_threshold == D("0.70")
    assert (config.kelly_multiplier, config.kelly_cap) == (D("0.25"), D("0.05"))
    exits = config.exits
    assert exits.stop_atr_multiple == D(2)
    assert (exits.trailing_min_distance, exits.trailing_profit_share) == (D("0.005"), D("0.3"))
    assert exits.breakeven_trigger == D("0.015")
    assert exits.ladder == (
        LadderStep(D("0.02"), D("0.33")),
        LadderStep(D("0.04"), D("0.33")),
        LadderStep(D("0.08"), D("1")),
    )
    assert (exits.time_exit_hours, exits.time_exit_min_gain) == (48, D("0.005"))
    assert (exits.pyramid_max_additions, exits.pyramid_fraction) == (2, D("0.5"))
    assert exits.pyramid_trigger == D("0.02")


def test_every_field_has_help_text_and_a_translatable_verbose_name():
    for field in RiskProfile._meta.concrete_fields:
        if field.name in ("id", "created_at", "updated_at"):
            continue
        assert str(field.help_text), field.name
        assert isinstance(field.verbose_name, Promise), field.name  # gettext_lazy


@pytest.mark.parametrize("preset", ["conservative", "balanced", "aggressive"])
def test_presets_produce_valid_engine_configs(preset):
    profile = RiskProfile(name=preset)
    profile.apply_preset(preset)
    profile.full_clean(exclude=["id"])
    config = profile.to_engine_config()
    assert profile.preset == preset
    if preset == "conservative":
        assert config.risk_per_trade == D("0.005")
        assert config.exits.pyramid_max_additions == 0
    if preset == "aggressive":
        assert config.sizing_method == "kelly"
        assert config.drawdown_mode == "reduce_only"


def test_presets_are_ordered_by_risk():
    configs = {}
    for preset in ("conservative", "balanced", "aggressive"):
        profile = RiskProfile(name=preset)
        profile.apply_preset(preset)
        configs[preset] = profile.to_engine_config()
    c, b, a = configs["conservative"], configs["balanced"], configs["aggressive"]
    assert c.risk_per_trade < b.risk_per_trade < a.risk_per_trade
    assert c.max_drawdown < b.max_drawdown < a.max_drawdown
    assert c.max_portfolio_heat < b.max_portfolio_heat < a.max_portfolio_heat


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("risk_per_trade", D("0.5"), "less than or equal to 0.1"),
        ("drawdown_mode", "panic", "not a valid choice"),
        ("sector_caps", {"defi": "0.3"}, "must be upper case"),
        ("sector_caps", {"DEFI": "lots"}, "decimal numbers"),
        (
            "take_profit_ladder",
            [{"gain": "0.04", "fraction": "0.5"}, {"gain": "0.02", "fraction": "1"}],
            "ladder[1].gain: must be above the previous step",
        ),
        ("take_profit_ladder", [{"gain": "0.02"}], "Each step must be"),
    ],
)
def test_bad_values_are_reported_on_the_field_with_the_rule(field, value, message):
    profile = RiskProfile(name="bad")
    setattr(profile, field, value)
    with pytest.raises(ValidationError) as info:
        profile.full_clean(exclude=["id"])
    assert field in info.value.message_dict
    assert any(message in m for m in info.value.message_dict[field])


def test_converted_profile_drives_the_engine():
    profile = RiskProfile(name="p", risk_per_trade=D("0.02"), max_position_pct=D(1))
    config = profile.to_engine_config()
    account = AccountState(equity=D(1000), peak_equity=D(1000), day_start_equity=D(1000))
    decision = evaluate_entry(config, account, TradeProposal("ETHUSDT", D(100), D(95), D(120)))
    assert decision.outcome is Outcome.APPROVED
    assert decision.risk_amount == D(20)


@pytest.mark.django_db
def test_create_from_preset_saves_and_audits():
    profile = create_risk_profile(name="Desk A", preset="conservative")
    stored = RiskProfile.objects.get(pk=profile.pk)
    assert stored.preset == Preset.CONSERVATIVE
    assert stored.risk_per_trade == D("0.005")
    assert stored.to_engine_config().max_open_positions == 3
    event = AuditEvent.objects.get(action="risk_profile.created")
    assert event.object_id == str(profile.pk)


@pytest.mark.django_db
def test_create_with_overrides_becomes_custom_and_bad_input_saves_nothing():
    profile = create_risk_profile(
        name="Desk B", preset="balanced", overrides={"max_trades_per_day": 2}
    )
    assert profile.preset == Preset.CUSTOM
    assert profile.max_trades_per_day == 2
    with pytest.raises(ValidationError) as info:
        create_risk_profile(name="Desk C", overrides={"max_drawdown": D("1.5")})
    assert "max_drawdown" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        create_risk_profile(name="Desk D", preset="yolo")
    assert "preset" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        create_risk_profile(name="Desk E", overrides={"leverage": 10})
    assert "leverage" in info.value.message_dict
    assert list(RiskProfile.objects.values_list("name", flat=True)) == ["Desk B"]
