"""Writes for strategy configurations: keyword-only, atomic, scoped and audited.

Parameters are validated by the strategy's own schema; every broken rule is reported
under `params.<name>`, and nothing is saved unless all of them pass.
"""

from __future__ import annotations

import re

from django.db import transaction

from apps.accounts.actors import Actor
from apps.accounts.models import ExchangeAccount
from apps.accounts.roles import Action
from apps.audit.services import diff, record_event
from apps.core.errors import NotFound, PermissionDenied, ValidationError
from apps.marketdata.intervals import Interval
from apps.marketdata.models import Symbol
from apps.risk.models import RiskProfile

from .engine import ParameterError, ParameterErrors, registry
from .models import StrategyConfig

_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")
MAX_SYMBOLS = 50


class ParameterValidationError(ValidationError):
    """Parameters broke the strategy's schema; `errors` maps `params.<name>` to rules."""

    def __init__(self, errors: dict[str, str]):
        field, rule = next(iter(errors.items()))
        message = "; ".join(f"{f}: {r}" for f, r in errors.items())
        super().__init__(field, rule, message)
        self.errors = errors

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": self.errors}


def _authorize(actor: Actor, obj, action: str):
    """Reload through the actor's scope, locked; NotFound hides other tenants."""
    model = type(obj)
    if actor.system:
        return model.objects.select_for_update().get(pk=obj.pk)
    if not model.objects.for_user(actor.user, Action.VIEW).filter(pk=obj.pk).exists():
        raise NotFound(f"{model._meta.verbose_name} {obj.pk} does not exist")
    found = (
        model.objects.for_user(actor.user, action)
        .select_for_update(of=("self",))
        .filter(pk=obj.pk)
        .first()
    )
    if found is None:
        raise PermissionDenied(
            f"your role does not allow '{action}' on {model._meta.verbose_name} {obj.pk}"
        )
    return found


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", "must not be empty")
    if len(value.strip()) > 120:
        raise ValidationError("name", "must be at most 120 characters")
    return value.strip()


def _strategy(key) -> type:
    try:
        return registry.get(key)
    except ParameterError as exc:
        raise ValidationError("strategy", exc.rule) from None


def _params(cls, params) -> dict:
    if params is not None and not isinstance(params, dict):
        raise ValidationError("params", "must be an object of parameter values")
    try:
        return cls.schema.validate(params or {})
    except ParameterErrors as exc:
        raise ParameterValidationError({f"params.{e.field}": e.rule for e in exc.errors}) from None


def _symbols(account: ExchangeAccount, symbols) -> list[str]:
    if not isinstance(symbols, list | tuple) or not symbols:
        raise ValidationError("symbols", "must be a non-empty list of symbols")
    if len(symbols) > MAX_SYMBOLS:
        raise ValidationError("symbols", f"must list at most {MAX_SYMBOLS} symbols")
    cleaned = []
    for index, symbol in enumerate(symbols):
        name = symbol.strip().upper() if isinstance(symbol, str) else ""
        if not _SYMBOL.match(name):
            raise ValidationError(f"symbols[{index}]", "must be 2-20 letters or digits")
        if name in cleaned:
            raise ValidationError(f"symbols[{index}]", f"{name} is listed twice")
        cleaned.append(name)
    known = set(
        Symbol.objects.filter(environment=account.environment, name__in=cleaned).values_list(
            "name", flat=True
        )
    )
    for index, name in enumerate(cleaned):
        if name not in known:
            raise ValidationError(
                f"symbols[{index}]",
                f"{name} is not a known symbol of the {account.environment} exchange",
            )
    return cleaned


def _interval(value) -> str:
    if value not in Interval.values:
        raise ValidationError("interval", f"must be one of {', '.join(Interval.values)}")
    return value


def _risk_profile(value) -> RiskProfile | None:
    if value is None:
        return None
    if not isinstance(value, RiskProfile) or value.pk is None:
        raise ValidationError("risk_profile", "must be an existing risk profile")
    return value


def _snapshot(config: StrategyConfig) -> dict:
    return {
        "name": config.name,
        "strategy": config.strategy,
        "strategy_version": config.strategy_version,
        "symbols": list(config.symbols),
        "interval": config.interval,
        "params": dict(config.params),
        "enabled": config.enabled,
        "risk_profile": config.risk_profile_id,
    }


@transaction.atomic
def create_strategy_config(
    *,
    actor: Actor,
    account: ExchangeAccount,
    name: str,
    strategy: str,
    symbols: list[str],
    interval: str,
    params: dict | None = None,
    risk_profile: RiskProfile | None = None,
) -> StrategyConfig:
    """A new config, paused: trading starts only with an explicit resume."""
    account = _authorize(actor, account, Action.TRADE)
    name = _name(name)
    cls = _strategy(strategy)
    cleaned = _params(cls, params)
    symbols = _symbols(account, symbols)
    interval = _interval(interval)
    risk_profile = _risk_profile(risk_profile)
    if StrategyConfig.objects.filter(account=account, name=name).exists():
        raise ValidationError("name", "must be unique within the account")
    config = StrategyConfig.objects.create(
        account=account,
        name=name,
        strategy=cls.key,
        strategy_version=cls.version,
        symbols=symbols,
        interval=interval,
        params=cleaned,
        risk_profile=risk_profile,
        enabled=False,
        paused_reason="created",
    )
    record_event(
        action="strategy_config.created",
        actor=actor.user,
        organization_id=account.organization_id,
        target=config,
        changes=diff({}, _snapshot(config)),
    )
    return config


@transaction.atomic
def update_strategy_config(
    *,
    actor: Actor,
    config: StrategyConfig,
    name: str | None = None,
    symbols: list[str] | None = None,
    interval: str | None = None,
    params: dict | None = None,
    risk_profile: RiskProfile | None = None,
    clear_risk_profile: bool = False,
) -> StrategyConfig:
    """Change settings; new parameters are validated against the strategy's current
    version, which the config then records. `clear_risk_profile` removes the profile."""
    config = _authorize(actor, config, Action.TRADE)
    before = _snapshot(config)
    if name is not None:
        name = _name(name)
        if (
            StrategyConfig.objects.filter(account=config.account, name=name)
            .exclude(pk=config.pk)
            .exists()
        ):
            raise ValidationError("name", "must be unique within the account")
        config.name = name
    if symbols is not None:
        config.symbols = _symbols(config.account, symbols)
    if interval is not None:
        config.interval = _interval(interval)
    if params is not None:
        cls = _strategy(config.strategy)
        config.params = _params(cls, params)
        config.strategy_version = cls.version
    if risk_profile is not None:
        config.risk_profile = _risk_profile(risk_profile)
    elif clear_risk_profile:
        config.risk_profile = None
    changes = diff(before, _snapshot(config))
    if not changes:
        return config
    config.save()
    record_event(
        action="strategy_config.updated",
        actor=actor.user,
        organization_id=config.account.organization_id,
        target=config,
        changes=changes,
    )
    return config


@transaction.atomic
def pause_strategy_config(*, actor: Actor, config: StrategyConfig, reason: str = "") -> bool:
    """Stop evaluating this config (open positions keep their protection). Returns
    False when it was already paused (nothing written)."""
    config = _authorize(actor, config, Action.TRADE)
    if not config.enabled:
        return False
    reason = (reason or "").strip()[:255] or "paused"
    config.enabled = False
    config.paused_reason = reason
    config.save(update_fields=["enabled", "paused_reason", "updated_at"])
    record_event(
        action="strategy_config.paused",
        actor=actor.user,
        organization_id=config.account.organization_id,
        target=config,
        changes={"enabled": {"before": True, "after": False}, "reason": reason},
    )
    return True


@transaction.atomic
def resume_strategy_config(*, actor: Actor, config: StrategyConfig) -> bool:
    """Evaluate this config again. Its parameters must still pass the strategy's
    schema (a plug-in upgrade may have changed it). False if already running."""
    config = _authorize(actor, config, Action.TRADE)
    if config.enabled:
        return False
    cls = _strategy(config.strategy)
    _params(cls, config.params)
    if cls.version != config.strategy_version:
        raise ValidationError(
            "strategy_version",
            f"the config was validated for {config.strategy_version}, the strategy is now "
            f"{cls.version}: save the parameters again to adopt it",
        )
    config.enabled = True
    config.paused_reason = ""
    config.save(update_fields=["enabled", "paused_reason", "updated_at"])
    record_event(
        action="strategy_config.resumed",
        actor=actor.user,
        organization_id=config.account.organization_id,
        target=config,
        changes={"enabled": {"before": False, "after": True}},
    )
    return True


@transaction.atomic
def restore_strategy_params(
    *, actor: Actor, config: StrategyConfig, params: dict, strategy_version: str, reason: str
) -> StrategyConfig:
    """Put back parameters and strategy version a config had before (a rollout's
    rollback). They passed that version's schema when first saved, so they are restored
    as they were, not re-validated against the current version."""
    config = _authorize(actor, config, Action.TRADE)
    if not isinstance(params, dict):
        raise ValidationError("params", "must be an object of parameter values")
    if not isinstance(strategy_version, str) or not strategy_version:
        raise ValidationError("strategy_version", "must not be empty")
    before = _snapshot(config)
    config.params = dict(params)
    config.strategy_version = strategy_version
    changes = diff(before, _snapshot(config))
    if not changes:
        return config
    config.save(update_fields=["params", "strategy_version", "updated_at"])
    record_event(
        action="strategy_config.restored",
        actor=actor.user,
        organization_id=config.account.organization_id,
        target=config,
        changes={**changes, "reason": reason},
    )
    return config
