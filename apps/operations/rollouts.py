"""Safe rollouts of a strategy's new parameters (or new strategy version).

- canary: a deterministic pick of the organization's accounts that run the strategy
  get the candidate parameters; the others are the control group;
- blue-green: the candidate runs as a new config on one paper account, beside the live
  configs, which stay as they are.

Their KPIs are compared side by side (`rollout_kpis.compare`). Promotion (every config
of the strategy gets the candidate) and rollback (every canary back to exactly what it
ran before) are each one service call: one transaction, one `rollout.*` audit event plus
the strategy services' own events for each config they change."""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.actors import Actor
from apps.accounts.models import Environment, ExchangeAccount, Organization
from apps.accounts.roles import Action
from apps.audit.services import record_event
from apps.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from apps.strategies import services as strategy_services
from apps.strategies.engine import ParameterError, ParameterErrors, registry
from apps.strategies.models import StrategyConfig
from apps.strategies.services import ParameterValidationError

from . import rollout_kpis
from .models import MemberRole, Rollout, RolloutMember, RolloutMode, RolloutState


def canary_pick(account_ids: list[int], fraction: Decimal, *, salt: str) -> list[int]:
    """The accounts that run the candidate: ceil(fraction x n), at least one and never
    all (a canary needs a control group). Ordered by a hash of (salt, id), so the pick
    is stable for one rollout and differs between rollouts."""
    ranked = sorted(account_ids, key=lambda pk: hashlib.sha256(f"{salt}:{pk}".encode()).hexdigest())
    size = min(max(1, math.ceil(fraction * len(ranked))), len(ranked) - 1)
    return sorted(ranked[:size])


def _organization(actor: Actor, organization: Organization) -> Organization:
    if actor.system:
        return organization
    scoped = Organization.objects.for_user(actor.user, Action.TRADE).filter(pk=organization.pk)
    if not scoped.exists():
        raise PermissionDenied(f"your role does not allow 'trade' in {organization}")
    return organization


def _candidate(strategy: str, params) -> tuple[type, dict]:
    try:
        cls = registry.get(strategy)
    except ParameterError as exc:
        raise ValidationError("strategy", exc.rule) from None
    if not isinstance(params, dict):
        raise ValidationError("params", "must be an object of parameter values")
    try:
        return cls, cls.schema.validate(params)
    except ParameterErrors as exc:
        raise ParameterValidationError({f"params.{e.field}": e.rule for e in exc.errors}) from None


def _fraction(value) -> Decimal:
    try:
        fraction = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError("fraction", "must be a number between 0 and 1") from None
    if not Decimal(0) < fraction < Decimal(1):
        raise ValidationError("fraction", "must be above 0 and below 1")
    return fraction


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", "must not be empty")
    return value.strip()[:120]


def _create(actor: Actor, **fields) -> Rollout:
    try:
        with transaction.atomic():
            return Rollout.objects.create(started_by=actor.username, **fields)
    except IntegrityError:
        raise ConflictError(
            "a rollout with this name exists, or one of this strategy is still running "
            "in the organization: promote or roll it back first"
        ) from None


def _member(rollout: Rollout, config: StrategyConfig, role: str) -> RolloutMember:
    return RolloutMember.objects.create(
        rollout=rollout,
        config=config,
        role=role,
        previous_params=dict(config.params),
        previous_version=config.strategy_version,
    )


def _live_configs(organization: Organization, strategy: str):
    return (
        StrategyConfig.objects.filter(account__organization=organization, strategy=strategy)
        .exclude(rollout_memberships__role=MemberRole.CANDIDATE)
        .order_by("pk")
    )


@transaction.atomic
def start_canary(
    *, actor: Actor, organization: Organization, name: str, strategy: str, params: dict, fraction
) -> Rollout:
    organization = _organization(actor, organization)
    name = _name(name)
    cls, params = _candidate(strategy, params)
    fraction = _fraction(fraction)
    configs = list(_live_configs(organization, cls.key))
    account_ids = sorted({c.account_id for c in configs})
    if len(account_ids) < 2:
        raise ValidationError(
            "strategy", "a canary needs at least two accounts running this strategy"
        )
    picked = set(canary_pick(account_ids, fraction, salt=f"{organization.pk}:{name}"))
    rollout = _create(
        actor,
        organization=organization,
        name=name,
        strategy=cls.key,
        mode=RolloutMode.CANARY,
        fraction=fraction,
        candidate_params=params,
        candidate_version=cls.version,
    )
    for config in configs:
        role = MemberRole.CANARY if config.account_id in picked else MemberRole.CONTROL
        _member(rollout, config, role)
        if role == MemberRole.CANARY:
            strategy_services.update_strategy_config(actor=actor, config=config, params=params)
    record_event(
        action="rollout.started",
        actor=actor.user,
        organization_id=organization.pk,
        target=rollout,
        changes={
            "mode": rollout.mode,
            "strategy": rollout.strategy,
            "fraction": str(fraction),
            "candidate_params": params,
            "candidate_version": cls.version,
            "canary_accounts": sorted(picked),
        },
    )
    return rollout


@transaction.atomic
def start_blue_green(
    *,
    actor: Actor,
    organization: Organization,
    name: str,
    strategy: str,
    params: dict,
    paper_account: ExchangeAccount,
) -> Rollout:
    """The candidate as a new config on `paper_account`, trading the symbols and interval
    of the first live config, and enabled; the live configs are the baseline."""
    organization = _organization(actor, organization)
    name = _name(name)
    cls, params = _candidate(strategy, params)
    if paper_account.organization_id != organization.pk:
        raise NotFound(f"exchange account {paper_account.pk} does not exist")
    if paper_account.environment != Environment.PAPER:
        raise ValidationError("paper_account", "must be a paper account")
    configs = [c for c in _live_configs(organization, cls.key) if c.account.environment != "paper"]
    if not configs:
        raise ValidationError("strategy", "no live account of the organization runs it")
    rollout = _create(
        actor,
        organization=organization,
        name=name,
        strategy=cls.key,
        mode=RolloutMode.BLUE_GREEN,
        candidate_params=params,
        candidate_version=cls.version,
    )
    template = configs[0]
    candidate = strategy_services.create_strategy_config(
        actor=actor,
        account=paper_account,
        name=f"{name} (candidate)",
        strategy=cls.key,
        symbols=list(template.symbols),
        interval=template.interval,
        params=params,
        risk_profile=template.risk_profile,
    )
    strategy_services.resume_strategy_config(actor=actor, config=candidate)
    _member(rollout, candidate, MemberRole.CANDIDATE)
    for config in configs:
        _member(rollout, config, MemberRole.CONTROL)
    record_event(
        action="rollout.started",
        actor=actor.user,
        organization_id=organization.pk,
        target=rollout,
        changes={
            "mode": rollout.mode,
            "strategy": rollout.strategy,
            "candidate_params": params,
            "candidate_version": cls.version,
            "candidate_config": candidate.pk,
        },
    )
    return rollout


def _running(actor: Actor, rollout: Rollout) -> Rollout:
    _organization(actor, rollout.organization)
    rollout = Rollout.objects.select_for_update().get(pk=rollout.pk)
    if rollout.state != RolloutState.RUNNING:
        raise ConflictError(f"the rollout is already {rollout.get_state_display().lower()}")
    return rollout


def _finish(actor: Actor, rollout: Rollout, state: str, action: str, changes: dict) -> Rollout:
    kpis = rollout_kpis.compare(rollout)
    rollout.state = state
    rollout.finished_at = timezone.now()
    rollout.finished_by = actor.username
    rollout.save(update_fields=["state", "finished_at", "finished_by", "updated_at"])
    record_event(
        action=action,
        actor=actor.user,
        organization_id=rollout.organization_id,
        target=rollout,
        changes={**changes, "kpis": kpis},
    )
    return rollout


def _pause_candidate(actor: Actor, rollout: Rollout, reason: str) -> None:
    for member in rollout.members.filter(role=MemberRole.CANDIDATE).select_related("config"):
        strategy_services.pause_strategy_config(actor=actor, config=member.config, reason=reason)


@transaction.atomic
def promote(*, actor: Actor, rollout: Rollout) -> Rollout:
    """Every config of the strategy in the organization gets the candidate."""
    rollout = _running(actor, rollout)
    updated = []
    for config in _live_configs(rollout.organization, rollout.strategy):
        if config.params != rollout.candidate_params or (
            config.strategy_version != rollout.candidate_version
        ):
            strategy_services.update_strategy_config(
                actor=actor, config=config, params=rollout.candidate_params
            )
            updated.append(config.pk)
    _pause_candidate(actor, rollout, reason=f"rollout {rollout.name} promoted")
    return _finish(
        actor, rollout, RolloutState.PROMOTED, "rollout.promoted", {"configs_updated": updated}
    )


@transaction.atomic
def rollback(*, actor: Actor, rollout: Rollout) -> Rollout:
    """Every canary back to the parameters and strategy version it ran before."""
    rollout = _running(actor, rollout)
    restored = []
    for member in rollout.members.filter(role=MemberRole.CANARY).select_related("config"):
        strategy_services.restore_strategy_params(
            actor=actor,
            config=member.config,
            params=member.previous_params,
            strategy_version=member.previous_version,
            reason=f"rollout {rollout.name} rolled back",
        )
        restored.append(member.config_id)
    _pause_candidate(actor, rollout, reason=f"rollout {rollout.name} rolled back")
    return _finish(
        actor,
        rollout,
        RolloutState.ROLLED_BACK,
        "rollout.rolled_back",
        {"configs_restored": restored},
    )
