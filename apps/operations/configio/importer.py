"""Import: validate the whole file, plan the diff, then apply every change in ONE
transaction through the domain services (each writes its own audit event), or nothing.

A dry run goes as far as applying and then rolls back, so it proves the services
accept every change without keeping any of them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from apps.accounts import services as account_services
from apps.accounts.actors import Actor
from apps.audit.services import record_event
from apps.core import errors
from apps.monitoring.models import NotificationRoute
from apps.monitoring.notifications.services import save_route
from apps.risk import services as risk_services
from apps.risk.engine import PRESETS
from apps.strategies import services as strategy_services
from apps.strategies.services import ParameterValidationError

from . import document as doc
from .plan import Step, build_plan
from .validation import validate


class ConfigImportError(errors.ValidationError):
    """The file cannot be imported; `problems` lists every (path, rule). Nothing changed."""

    def __init__(self, problems: list[tuple[str, str]]):
        path, rule = problems[0]
        lines = "\n".join(f"{p}: {r}" for p, r in problems)
        super().__init__(path, rule, f"{len(problems)} problem(s) in the file:\n{lines}")
        self.problems = problems


@dataclass
class ImportResult:
    steps: list[Step]
    applied: bool

    def counts(self) -> dict[str, int]:
        return dict(Counter(step.status for step in self.steps))

    def changes(self) -> list[dict]:
        return [s.as_dict() for s in self.steps if s.status in ("created", "changed")]

    def as_dict(self) -> dict:
        return {
            "applied": self.applied,
            "counts": self.counts(),
            "objects": [s.as_dict() for s in self.steps],
        }


class _DryRun(Exception):
    pass


def import_configuration(document, *, actor: Actor | None = None, dry_run: bool = False):
    """Validate, diff and (unless `dry_run`) apply `document`. Raises ConfigImportError
    naming every problem's path; on any error nothing is changed."""
    actor = actor or Actor.for_system()
    problems = validate(document)
    if problems:
        raise ConfigImportError(problems)
    steps, problems = build_plan(document)
    if problems:
        raise ConfigImportError(problems)
    try:
        with transaction.atomic():
            _Applier(actor).run(steps)
            if any(step.status in ("created", "changed") for step in steps):
                record_event(
                    action="configuration.imported",
                    actor=actor.user,
                    changes={"dry_run": dry_run, **{f"objects_{k}": v for k, v in
                             Counter(s.status for s in steps).items()}},
                )  # fmt: skip
            if dry_run:
                raise _DryRun
    except _DryRun:
        return ImportResult(steps, applied=False)
    return ImportResult(steps, applied=True)


class _Applier:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.organizations: dict = {}
        self.accounts: dict = {}
        self.profiles: dict = {}

    def run(self, steps: list[Step]) -> None:
        for step in steps:
            if step.status == "not_in_file":
                continue
            try:
                getattr(self, f"apply_{step.section}")(step)
            except ParameterValidationError as exc:
                problems = [(f"{step.path}.{f}", r) for f, r in exc.errors.items()]
                raise ConfigImportError(problems) from None
            except errors.ValidationError as exc:
                raise ConfigImportError([(f"{step.path}.{exc.field}", exc.rule)]) from None
            except errors.SpotdeskError as exc:
                raise ConfigImportError([(step.path, exc.message)]) from None
            except DjangoValidationError as exc:
                raise ConfigImportError(
                    [(f"{step.path}.{f}", "; ".join(map(str, m))) for f, m in _by_field(exc)]
                ) from None

    # Each handler keeps the object it touched so later sections can refer to it.

    def apply_risk_profiles(self, step: Step) -> None:
        profile, item = step.obj, step.item
        settings = {name: value for name, value in item.items() if name != "name"}
        if profile is None:
            preset = item["preset"] if item["preset"] in PRESETS else "balanced"
            profile = risk_services.create_risk_profile(
                name=item["name"], preset=preset, actor=self.actor.user
            )
        if step.status != "unchanged":
            profile = risk_services.update_risk_profile(
                profile=profile, changes=settings, actor=self.actor.user
            )
        self.profiles[item["name"]] = profile

    def apply_organizations(self, step: Step) -> None:
        org, item = step.obj, step.item
        if org is None:
            org = account_services.create_organization(
                actor=self.actor, name=item["name"], slug=item["slug"]
            )
        elif step.fields:
            org = account_services.rename_organization(
                actor=self.actor, organization=org, name=item["name"]
            )
        self.organizations[item["slug"]] = org

    def apply_exchange_accounts(self, step: Step) -> None:
        account, item = step.obj, step.item
        if account is None:
            account = account_services.restore_exchange_account(
                actor=self.actor,
                organization=self.organizations[item["organization"]],
                name=item["name"],
                environment=item["environment"],
                valuation_currency=item["valuation_currency"],
            )
        elif step.fields:
            account = account_services.update_exchange_account(
                actor=self.actor, account=account, valuation_currency=item["valuation_currency"]
            )
        self.accounts[(item["organization"], item["name"])] = account

    def apply_strategy_configs(self, step: Step) -> None:
        config, item = step.obj, step.item
        profile = self.profiles.get(item["risk_profile"]) if item["risk_profile"] else None
        if config is None:
            config = strategy_services.create_strategy_config(
                actor=self.actor,
                account=self.accounts[(item["organization"], item["account"])],
                name=item["name"],
                strategy=item["strategy"],
                symbols=item["symbols"],
                interval=item["interval"],
                params=item["params"],
                risk_profile=profile,
            )
            was_enabled = False
        else:
            was_enabled = config.enabled
            changed = set(step.fields)
            saves_params = any(n.startswith("params.") or n == "strategy_version" for n in changed)
            config = strategy_services.update_strategy_config(
                actor=self.actor,
                config=config,
                symbols=item["symbols"] if "symbols" in changed else None,
                interval=item["interval"] if "interval" in changed else None,
                params=item["params"] if saves_params else None,
                risk_profile=profile if "risk_profile" in changed else None,
                clear_risk_profile="risk_profile" in changed and profile is None,
            )
        if item["enabled"] and not was_enabled:
            strategy_services.resume_strategy_config(actor=self.actor, config=config)
        elif was_enabled and not item["enabled"]:
            strategy_services.pause_strategy_config(
                actor=self.actor, config=config, reason="configuration import"
            )

    def apply_notification_routes(self, step: Step) -> None:
        if step.status == "unchanged":
            return
        item = step.item
        data = {name: item[name] for name in doc.ROUTE_FIELDS if name != "organization"}
        slug = item["organization"]
        data["organization"] = self.organizations[slug] if slug is not None else None
        save_route(actor=self.actor, route=step.obj or NotificationRoute(), data=data)


def _by_field(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return exc.message_dict.items()
    return [("$", exc.messages)]
