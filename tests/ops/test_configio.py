"""Configuration backup: export, change the database, import back, get the original."""

import json

import pytest
from django.core.management import CommandError, call_command

from apps.accounts import services as account_services
from apps.accounts.actors import Actor
from apps.accounts.models import ExchangeAccount, Organization
from apps.audit.models import AuditEvent
from apps.monitoring.models import NotificationRoute
from apps.monitoring.notifications.services import save_route
from apps.operations.configio import ConfigImportError, export_configuration, import_configuration
from apps.risk import services as risk_services
from apps.risk.models import RiskProfile
from apps.strategies import services as strategy_services
from apps.strategies.models import StrategyConfig
from tests.accounts.factories import make_account, make_org
from tests.trading.support import make_config, sync_default_symbols

pytestmark = pytest.mark.django_db
SYSTEM = Actor.for_system()


def route(org, name, **data):
    defaults = {
        "organization": org,
        "name": name,
        "channel": "email",
        "min_severity": "warning",
        "events": [],
        "target": {"recipients": ["ops@example.com"]},
        "enabled": True,
    }
    return save_route(actor=SYSTEM, route=NotificationRoute(), data={**defaults, **data})


@pytest.fixture
def setup():
    sync_default_symbols()
    acme = make_org("Acme")
    beta = make_org("Beta")
    careful = risk_services.create_risk_profile(name="careful", preset="conservative")
    bold = risk_services.create_risk_profile(
        name="bold", preset="aggressive", overrides={"risk_per_trade": "0.02"}
    )
    main = make_account(acme, name="main")
    spare = make_account(acme, name="spare")
    other = make_account(beta, name="other")
    trend = make_config(main, name="trend", params={"fast": 10, "slow": 30})
    strategy_services.update_strategy_config(actor=SYSTEM, config=trend, risk_profile=careful)
    strategy_services.resume_strategy_config(actor=SYSTEM, config=trend)
    make_config(spare, name="dca", strategy="dca", symbols=("ETHUSDT", "BTCUSDT"))
    make_config(other, name="breakout", strategy="breakout", interval="4h")
    strategy_services.update_strategy_config(
        actor=SYSTEM, config=StrategyConfig.objects.get(name="breakout"), risk_profile=bold
    )
    route(acme, "ops mail", events=["risk_*"])
    route(acme, "night shift", min_severity="critical")
    route(beta, "beta mail", enabled=False)
    route(None, "platform mail")
    return {"acme": acme, "main": main, "trend": trend, "careful": careful}


def test_export_holds_every_object_and_no_secret(setup):
    document = export_configuration()
    assert document["format_version"] == 1
    assert [o["slug"] for o in document["organizations"]] == ["acme", "beta"]
    assert [p["name"] for p in document["risk_profiles"]] == ["bold", "careful"]
    assert len(document["exchange_accounts"]) == 3
    assert len(document["strategy_configs"]) == 3
    assert {r["name"] for r in document["notification_routes"]} == {
        "ops mail", "night shift", "beta mail", "platform mail"
    }  # fmt: skip
    trend = next(c for c in document["strategy_configs"] if c["name"] == "trend")
    assert trend["params"]["fast"] == 10
    assert trend["enabled"] is True
    assert trend["risk_profile"] == "careful"
    bold = next(p for p in document["risk_profiles"] if p["name"] == "bold")
    assert bold["risk_per_trade"] == "0.020000"
    text = json.dumps(document)
    for key_pair in setup["main"].key_pairs.all():
        assert key_pair.api_key not in text
    assert "secret" not in text
    assert "api_key" not in text
    assert export_configuration() == document  # deterministic


def test_export_of_one_organization(setup):
    document = export_configuration(setup["acme"])
    assert [o["slug"] for o in document["organizations"]] == ["acme"]
    assert {a["organization"] for a in document["exchange_accounts"]} == {"acme"}
    assert [p["name"] for p in document["risk_profiles"]] == ["careful"]  # only what acme uses
    assert "platform mail" not in {r["name"] for r in document["notification_routes"]}


def test_round_trip_restores_the_original_configuration(setup, tmp_path):
    backup = tmp_path / "backup.json"
    call_command("export_config", output=str(backup))
    original = json.loads(backup.read_text())

    # Change the database in every way the backup covers.
    trend = setup["trend"]
    strategy_services.update_strategy_config(actor=SYSTEM, config=trend, params={"fast": 5})
    strategy_services.pause_strategy_config(actor=SYSTEM, config=trend, reason="test")
    strategy_services.update_strategy_config(actor=SYSTEM, config=trend, clear_risk_profile=True)
    NotificationRoute.objects.get(name="night shift").delete()
    save_route(
        actor=SYSTEM,
        route=NotificationRoute.objects.get(name="ops mail"),
        data={"min_severity": "error", "events": []},
    )
    account_services.rename_organization(actor=SYSTEM, organization=setup["acme"], name="Acme 2")
    account_services.update_exchange_account(
        actor=SYSTEM, account=setup["main"], valuation_currency="BTC"
    )
    risk_services.update_risk_profile(profile=setup["careful"], changes={"max_open_positions": 9})
    RiskProfile.objects.get(name="bold").strategy_configs.update(risk_profile=None)
    RiskProfile.objects.filter(name="bold").delete()
    assert export_configuration() != original

    out = tmp_path / "out.txt"
    with out.open("w") as stdout:
        call_command("import_config", str(backup), stdout=stdout)
    report = out.read_text()
    assert "created      notification_routes  acme/night shift" in report
    assert "params.fast: 5 -> 10" in report
    assert "unchanged    organizations        beta" in report

    assert export_configuration() == original
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "strategy_config.updated",
        "strategy_config.resumed",
        "notification_route.created",
        "notification_route.changed",
        "organization.updated",
        "exchange_account.updated",
        "risk_profile.created",
        "risk_profile.updated",
        "configuration.imported",
    } <= actions


def test_restore_into_an_empty_database_creates_keyless_paused_accounts(setup):
    document = export_configuration(setup["acme"])
    document["organizations"][0]["slug"] = "acme-copy"
    document["organizations"][0]["name"] = "Acme copy"
    for section in ("exchange_accounts", "strategy_configs", "notification_routes"):
        for item in document[section]:
            item["organization"] = "acme-copy"
    result = import_configuration(document)
    assert result.applied
    assert result.counts()["created"] == 1 + 2 + 2 + 2
    copy = Organization.objects.get(slug="acme-copy")
    accounts = ExchangeAccount.objects.filter(organization=copy)
    assert {a.status for a in accounts} == {"paused"}
    assert not any(a.key_pairs.exists() for a in accounts)
    restored = export_configuration(copy)
    assert restored["strategy_configs"] == document["strategy_configs"]
    assert restored["notification_routes"] == document["notification_routes"]


def test_dry_run_shows_the_diff_and_changes_nothing(setup):
    document = export_configuration()
    trend = next(c for c in document["strategy_configs"] if c["name"] == "trend")
    trend["params"]["slow"] = 40
    events = AuditEvent.objects.count()
    result = import_configuration(document, dry_run=True)
    assert not result.applied
    [change] = result.changes()
    assert change["object"] == "acme/main/trend"
    assert change["fields"] == {"params.slow": {"before": 30, "after": 40}}
    assert StrategyConfig.objects.get(name="trend").params["slow"] == 30
    assert AuditEvent.objects.count() == events


def test_every_problem_is_named_by_its_path_and_nothing_changes(setup):
    document = export_configuration()
    document["strategy_configs"][2]["params"]["fast"] = 0
    document["strategy_configs"][0]["symbols"] = ["NOPEUSDT"]
    document["exchange_accounts"][1]["environment"] = "moon"
    document["risk_profiles"][0]["risk_per_trade"] = "5"
    document["notification_routes"][0]["organization"] = "nobody"
    document["organizations"][1]["name"] = "Renamed"
    with pytest.raises(ConfigImportError) as caught:
        import_configuration(document)
    paths = {path for path, _rule in caught.value.problems}
    assert {
        "strategy_configs[2].params.fast",
        "strategy_configs[0].symbols[0]",
        "exchange_accounts[1].environment",
        "risk_profiles[0].risk_per_trade",
        "notification_routes[0].organization",
    } <= paths
    assert Organization.objects.filter(name="Beta").exists()


def test_database_rules_are_checked_before_applying(setup):
    sync_default_symbols("live")
    document = export_configuration()
    main = next(a for a in document["exchange_accounts"] if a["name"] == "main")
    main["environment"] = "live"
    document["notification_routes"].append(
        {"organization": "acme", "name": "telegram", "channel": "telegram",
         "min_severity": "error", "events": [], "target": {"chat_id": "1"}, "enabled": True}
    )  # fmt: skip
    document["organizations"][0]["name"] = "Acme renamed"
    with pytest.raises(ConfigImportError) as caught:
        import_configuration(document)
    paths = [path for path, _rule in caught.value.problems]
    assert "exchange_accounts[0].environment" in paths
    assert f"notification_routes[{len(document['notification_routes']) - 1}].channel" in paths
    assert Organization.objects.filter(name="Acme").exists()


def test_a_service_refusal_rolls_back_everything_applied_before_it(setup, monkeypatch):
    document = export_configuration()
    document["organizations"][0]["name"] = "Acme renamed"
    document["organizations"][1]["name"] = "Acme"  # clashes with acme's current name...
    # ...and acme is renamed first, so the clash is gone by the time beta is renamed:
    # swap the order to make the service refuse beta's new name.
    document["organizations"].reverse()
    with pytest.raises(ConfigImportError) as caught:
        import_configuration(document)
    assert caught.value.field == "organizations[0].name"
    assert set(Organization.objects.values_list("name", flat=True)) == {"Acme", "Beta"}


def test_import_command_reports_problems_and_bad_files(setup, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format_version": 99}))
    with pytest.raises(CommandError, match="format_version: must be 1"):
        call_command("import_config", str(bad))
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("import_config", str(bad))
    with pytest.raises(CommandError, match="no organization has the slug"):
        call_command("export_config", organization="nope")
