"""Writes for backtests: keyword-only, validated, scoped by role and audited.

Creating a backtest or a batch needs the `trade` role in its organization (the same
role that configures strategies); the criteria of the go-live checklist need `risk`.
Runs are queued on the `backtest` queue once the creating transaction commits.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.accounts.actors import Actor
from apps.accounts.models import Environment, ExchangeAccount, Organization
from apps.accounts.roles import Action
from apps.accounts.scoping import has_cross_organization_access
from apps.audit.services import record_event
from apps.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from apps.marketdata.intervals import INTERVAL_MS, Interval
from apps.marketdata.models import Symbol
from apps.risk.models import RiskProfile
from apps.strategies import services as strategy_services
from apps.strategies.engine import ParameterError, ParameterErrors, registry
from apps.strategies.models import StrategyConfig
from apps.strategies.services import ParameterValidationError

from . import execute
from .engine.splits import parameter_grid, walk_forward_windows
from .models import FINISHED, Backtest, BacktestBatch, BacktestCriteria, FillMode, Status

logger = logging.getLogger(__name__)

MAX_SYMBOLS = 20
MAX_BARS = 5_000_000
MAX_RUNS = 500
OBJECTIVES = ("sharpe", "sortino", "total_return", "calmar", "profit_factor", "sqn")
_PROGRESS_EVERY_S = 0.5


# --- scope ----------------------------------------------------------------------------


def require_organization_role(actor: Actor, organization: Organization, action: str) -> None:
    """NotFound when the actor cannot see the organization, PermissionDenied when the
    role does not allow ``action`` there."""
    if actor.system:
        return
    scoped = Organization.objects.for_user
    if not scoped(actor.user, Action.VIEW).filter(pk=organization.pk).exists():
        raise NotFound(f"organization {organization.pk} does not exist")
    if not scoped(actor.user, action).filter(pk=organization.pk).exists():
        raise PermissionDenied(f"your role does not allow '{action}' in {organization}")


def _visible_risk_profile(actor: Actor, organization: Organization, profile) -> RiskProfile:
    if not isinstance(profile, RiskProfile) or profile.pk is None:
        raise ValidationError("risk_profile", "must be an existing risk profile")
    if actor.system or has_cross_organization_access(actor.user):
        return profile
    # Profiles have no organization: usable are those the organization's configs use.
    used = StrategyConfig.objects.filter(account__organization=organization, risk_profile=profile)
    if not used.exists():
        raise ValidationError("risk_profile", "must be a risk profile your organization uses")
    return profile


# --- validation -----------------------------------------------------------------------


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name", "must not be empty")
    if len(value.strip()) > 120:
        raise ValidationError("name", "must be at most 120 characters")
    return value.strip()


def _strategy(key, params, field: str = "params") -> tuple[type, dict]:
    try:
        cls = registry.get(key)
    except ParameterError as exc:
        raise ValidationError("strategy", exc.rule) from None
    if params is not None and not isinstance(params, dict):
        raise ValidationError(field, "must be an object of parameter values")
    try:
        return cls, cls.schema.validate(params or {})
    except ParameterErrors as exc:
        raise ParameterValidationError({f"{field}.{e.field}": e.rule for e in exc.errors}) from None


def _symbols(environment: str, symbols) -> list[str]:
    if not isinstance(symbols, list | tuple) or not symbols:
        raise ValidationError("symbols", "must be a non-empty list of symbols")
    if len(symbols) > MAX_SYMBOLS:
        raise ValidationError("symbols", f"must list at most {MAX_SYMBOLS} symbols")
    cleaned = []
    for index, raw in enumerate(symbols):
        name = raw.strip().upper() if isinstance(raw, str) else ""
        if not name or name in cleaned:
            raise ValidationError(f"symbols[{index}]", "must be a symbol listed once")
        cleaned.append(name)
    known = set(
        Symbol.objects.filter(environment=environment, name__in=cleaned).values_list(
            "name", flat=True
        )
    )
    for index, name in enumerate(cleaned):
        if name not in known:
            raise ValidationError(
                f"symbols[{index}]", f"{name} is not a known symbol of the {environment} exchange"
            )
    return cleaned


def _period(interval, start, end) -> tuple[str, datetime, datetime]:
    if interval not in Interval.values:
        raise ValidationError("interval", f"must be one of {', '.join(Interval.values)}")
    for field, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise ValidationError(field, "must be a date and time with a time zone")
    if end <= start:
        raise ValidationError("end", "must be after start")
    if (end - start) / timedelta(milliseconds=INTERVAL_MS[interval]) > MAX_BARS:
        raise ValidationError("end", f"the period must hold at most {MAX_BARS} candles")
    return interval, start, end


def _fraction(field: str, value, default: str) -> Decimal:
    try:
        value = Decimal(str(default if value is None else value))
    except InvalidOperation:
        raise ValidationError(field, "must be a decimal number") from None
    if not Decimal(0) <= value < Decimal("0.5"):
        raise ValidationError(field, "must be at least 0 and below 0.5")
    return value


def _cash(value) -> Decimal:
    try:
        value = Decimal(str(10000 if value is None else value))
    except InvalidOperation:
        raise ValidationError("initial_cash", "must be a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise ValidationError("initial_cash", "must be positive")
    return value


def _spec(
    actor: Actor,
    *,
    organization: Organization | None = None,
    account: ExchangeAccount | None = None,
    config: StrategyConfig | None = None,
    name: str | None = None,
    strategy: str | None = None,
    params: dict | None = None,
    symbols: list | None = None,
    interval: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    risk_profile: RiskProfile | None = None,
    environment: str | None = None,
    fill_mode: str | None = None,
    commission=None,
    slippage=None,
    initial_cash=None,
    backfill: bool = False,
) -> dict:
    """Every field of a Backtest, validated; nothing is written."""
    if config is not None:
        if not isinstance(config, StrategyConfig):
            raise ValidationError("config", "must be an existing strategy configuration")
        account = account or config.account
        strategy = strategy or config.strategy
        params = config.params if params is None else params
        symbols = symbols or list(config.symbols)
        interval = interval or config.interval
        risk_profile = risk_profile or config.risk_profile
    if account is not None:
        if not isinstance(account, ExchangeAccount):
            raise ValidationError("account", "must be an existing exchange account")
        if organization is not None and organization.pk != account.organization_id:
            raise ValidationError("account", "must belong to the organization")
        organization = account.organization
        environment = environment or account.environment
    if not isinstance(organization, Organization):
        raise ValidationError("organization", "is required (or an account or a configuration)")
    require_organization_role(actor, organization, Action.TRADE)
    if config is not None and config.account.organization_id != organization.pk:
        raise ValidationError("config", "must belong to the organization")
    environment = environment or Environment.LIVE
    if environment not in Environment.values:
        raise ValidationError("environment", f"must be one of {', '.join(Environment.values)}")
    cls, cleaned = _strategy(strategy, params)
    interval, start, end = _period(interval, start, end)
    fill_mode = fill_mode or FillMode.NEXT_OPEN
    if fill_mode not in FillMode.values:
        raise ValidationError("fill_mode", f"must be one of {', '.join(FillMode.values)}")
    profile = _visible_risk_profile(actor, organization, risk_profile) if risk_profile else None
    cleaned_symbols = _symbols(environment, symbols)
    risk = execute.risk_snapshot(profile)
    _check_risk(risk)
    return {
        "organization": organization,
        "account": account,
        "source_config": config,
        "name": _name(name or f"{cls.key} {', '.join(cleaned_symbols)} {interval}"),
        "strategy": cls.key,
        "strategy_version": cls.version,
        "params": cleaned,
        "risk": risk,
        "risk_profile_name": profile.name if profile else "",
        "environment": environment,
        "symbols": cleaned_symbols,
        "interval": interval,
        "start": start,
        "end": end,
        "fill_mode": fill_mode,
        "commission": _fraction("commission", commission, "0.001"),
        "slippage": _fraction("slippage", slippage, "0"),
        "initial_cash": _cash(initial_cash),
        "backfill": bool(backfill) and account is not None,
    }


def _check_risk(snapshot: dict | None) -> None:
    try:
        execute.risk_config(snapshot)
    except ParameterErrors as exc:
        rules = "; ".join(f"{e.field}: {e.rule}" for e in exc.errors)
        raise ValidationError(
            "risk_profile", f"the profile breaks the risk engine's rules: {rules}"
        ) from None


def _audit_fields(backtest: Backtest) -> dict:
    return {
        "name": backtest.name,
        "strategy": backtest.strategy,
        "strategy_version": backtest.strategy_version,
        "params": backtest.params,
        "symbols": backtest.symbols,
        "interval": backtest.interval,
        "start": backtest.start.isoformat(),
        "end": backtest.end.isoformat(),
        "fill_mode": backtest.fill_mode,
        "risk_profile": backtest.risk_profile_name,
    }


def _enqueue(backtest_ids: list[int]) -> None:
    from .tasks import run_backtest_task

    def send():
        for pk in backtest_ids:
            run_backtest_task.delay(pk)

    transaction.on_commit(send)


# --- create ---------------------------------------------------------------------------


@transaction.atomic
def create_backtest(*, actor: Actor, **fields) -> Backtest:
    """Validate, store as queued, and queue the run once committed (trade role)."""
    spec = _spec(actor, **fields)
    backtest = Backtest.objects.create(**spec, created_by=actor.username)
    record_event(
        action="backtest.created",
        actor=actor.user,
        organization_id=backtest.organization_id,
        target=backtest,
        changes={"after": _audit_fields(backtest)},
    )
    _enqueue([backtest.pk])
    return backtest


def _objective(value) -> str:
    value = value or "sharpe"
    if value not in OBJECTIVES:
        raise ValidationError("objective", f"must be one of {', '.join(OBJECTIVES)}")
    return value


def _grid(cls: type, grid, base_params: dict) -> tuple[list[dict], int]:
    """The grid's combinations over the base parameters, each cleaned, and how many
    were skipped for breaking one of the strategy's cross-field rules (a sweep of
    overlapping `fast` and `slow` ranges keeps the pairs where fast is below slow, as
    a grid search's constraint would). A value of the wrong type or out of bounds
    refuses the whole grid, as does a grid where no combination keeps to the rules."""
    try:
        combos = parameter_grid(grid, limit=MAX_RUNS)
    except ValueError as exc:
        raise ValidationError("grid", str(exc)) from None
    kept, first_broken = [], None
    for combo in combos:
        try:
            cleaned = cls.schema.clean_each({**base_params, **combo})
        except ParameterErrors as exc:
            raise ParameterValidationError(_grid_rules(exc.errors)) from None
        broken = cls.schema.broken_rules(cleaned)
        if broken:
            first_broken = first_broken or broken
        else:
            kept.append(cleaned)
    if not kept and first_broken:
        raise ParameterValidationError(_grid_rules(first_broken))
    return kept, len(combos) - len(kept)


def _grid_rules(errors) -> dict[str, str]:
    return {f"grid.{e.field}": e.rule for e in errors}


@transaction.atomic
def create_batch(
    *,
    actor: Actor,
    kind: str,
    name: str | None = None,
    grid: dict | None = None,
    objective: str | None = None,
    folds: int | None = None,
    train_ratio: float | None = None,
    anchored: bool = False,
    variant: dict | None = None,
    **base,
) -> BacktestBatch:
    """A sweep (every combination of ``grid`` over the period), a walk-forward analysis
    (a sweep on each training window, the best by ``objective`` then run on the test
    window after it) or an A/B comparison (the base against ``variant``: overrides of
    strategy, params or risk_profile). Children are queued on commit."""
    if kind not in BacktestBatch.Kind.values:
        raise ValidationError("kind", f"must be one of {', '.join(BacktestBatch.Kind.values)}")
    _only_for_kind(kind, grid=grid, variant=variant)
    spec = _spec(actor, **base)
    cls = registry.get(spec["strategy"])
    objective = _objective(objective)
    batch_spec = {"objective": objective}
    runs: list[tuple[str, dict]] = []
    if kind == BacktestBatch.Kind.SWEEP:
        combos, skipped = _grid(cls, grid, spec["params"])
        runs = [("sweep", {**spec, "params": p}) for p in combos]
        batch_spec.update(grid=grid, skipped_by_rules=skipped)
    elif kind == BacktestBatch.Kind.WALK_FORWARD:
        combos, skipped = _grid(cls, grid, spec["params"])
        windows = _windows(spec, folds, train_ratio, anchored)
        if len(combos) * len(windows) > MAX_RUNS:
            raise ValidationError("grid", f"combinations x folds must be at most {MAX_RUNS}")
        for w in windows:
            train = {**spec, "start": _dt(w.train_start), "end": _dt(w.train_end)}
            runs += [(f"train {w.fold}", {**train, "params": p}) for p in combos]
        batch_spec.update(
            grid=grid,
            skipped_by_rules=skipped,
            anchored=bool(anchored),
            train_ratio=train_ratio or 0.7,
            windows=[
                [w.fold, w.train_start, w.train_end, w.test_start, w.test_end] for w in windows
            ],
        )
    else:
        runs = [("A", spec), ("B", _variant(actor, spec, variant))]
        batch_spec["variant"] = {k: v for k, v in (variant or {}).items() if k != "risk_profile"}
    batch = BacktestBatch.objects.create(
        organization=spec["organization"],
        name=_name(name or f"{kind} {spec['name']}"),
        kind=kind,
        spec={**batch_spec, "base": _json_spec(spec)},
        created_by=actor.username,
    )
    children = Backtest.objects.bulk_create(
        Backtest(**(fields | {"name": _child_name(role, fields)}), batch=batch, role=role,
                 created_by=actor.username)
        for role, fields in runs
    )  # fmt: skip
    record_event(
        action="backtest_batch.created",
        actor=actor.user,
        organization_id=batch.organization_id,
        target=batch,
        changes={"after": {"kind": kind, "name": batch.name, "runs": len(children), **batch_spec}},
    )
    _enqueue([c.pk for c in children])
    return batch


def _only_for_kind(kind: str, *, grid, variant) -> None:
    """A setting the kind never reads is a mistake to name, not to ignore silently."""
    compare = kind == BacktestBatch.Kind.COMPARE
    if compare and grid is not None:
        raise ValidationError("grid", "an A/B comparison takes a variant, not a grid")
    if not compare and variant is not None:
        raise ValidationError("variant", "only an A/B comparison takes a variant")


def _child_name(role: str, fields: dict) -> str:
    described = ", ".join(f"{k}={v}" for k, v in sorted(fields["params"].items()))
    return f"{role}: {described}"[:120]


def _dt(ms: int) -> datetime:
    from apps.marketdata.times import ms_to_datetime

    return ms_to_datetime(ms)


def _windows(spec: dict, folds, train_ratio, anchored):
    from apps.marketdata.times import datetime_to_ms

    if not isinstance(folds, int) or not 1 <= folds <= 50:
        raise ValidationError("folds", "must be an integer from 1 to 50")
    ratio = 0.7 if train_ratio is None else train_ratio
    if not isinstance(ratio, int | float) or not 0.1 <= ratio <= 0.95:
        raise ValidationError("train_ratio", "must be between 0.1 and 0.95")
    try:
        return walk_forward_windows(
            datetime_to_ms(spec["start"]),
            datetime_to_ms(spec["end"]),
            folds=folds,
            train_ratio=float(ratio),
            anchored=bool(anchored),
            align_ms=INTERVAL_MS[spec["interval"]],
        )
    except ValueError as exc:
        raise ValidationError("folds", str(exc)) from None


def _variant(actor: Actor, spec: dict, variant) -> dict:
    if not isinstance(variant, dict) or not variant:
        raise ValidationError("variant", "must name what B changes: strategy, params, risk_profile")
    unknown = set(variant) - {"strategy", "params", "risk_profile"}
    if unknown:
        raise ValidationError("variant", f"unknown keys: {', '.join(sorted(unknown))}")
    key = variant.get("strategy", spec["strategy"])
    params = variant.get("params", {})
    if key == spec["strategy"] and isinstance(params, dict):
        # Overrides: what B does not name keeps A's value, not the strategy's default.
        params = {**spec["params"], **params}
    cls, cleaned = _strategy(key, params, field="variant.params")
    out = {**spec, "strategy": cls.key, "strategy_version": cls.version, "params": cleaned}
    if "risk_profile" in variant:
        profile = variant["risk_profile"]
        if profile is not None:
            profile = _visible_risk_profile(actor, spec["organization"], profile)
        out["risk"] = execute.risk_snapshot(profile)
        _check_risk(out["risk"])
        out["risk_profile_name"] = profile.name if profile else ""
    if all(out[k] == spec[k] for k in ("strategy", "params", "risk")):
        raise ValidationError("variant", "must change something: B would be the same as A")
    return out


def _json_spec(spec: dict) -> dict:
    skip = {"organization", "account", "source_config", "risk"}
    out = {k: str(v) if isinstance(v, Decimal | datetime) else v for k, v in spec.items()}
    out = {k: v for k, v in out.items() if k not in skip}
    out["account"] = spec["account"].pk if spec["account"] else None
    return out


# --- run ------------------------------------------------------------------------------


def _claim(backtest_id: int) -> Backtest | None:
    with transaction.atomic():
        backtest = Backtest.objects.select_for_update().filter(pk=backtest_id).first()
        if backtest is None or backtest.status in FINISHED:
            return None  # gone, or a redelivered task of a finished run: nothing to do
        # A redelivery of a running one (its worker died) starts it again.
        backtest.status = Status.RUNNING
        backtest.progress = 0
        backtest.started_at = timezone.now()
        backtest.save(update_fields=["status", "progress", "started_at", "updated_at"])
    publish_progress(backtest)
    return backtest


def run_backtest(backtest_id: int) -> Backtest | None:
    """Run a queued backtest and store its result; idempotent (a finished one is left
    as it is). Failures are stored on the row with their reason."""
    backtest = _claim(backtest_id)
    if backtest is None:
        # Redelivered after the run finished: the batch may not have heard of it yet
        # (the worker died in between), and advancing it twice changes nothing.
        batch_id = Backtest.objects.filter(pk=backtest_id).values_list("batch_id", flat=True)
        if batch_id.first():
            advance_batch(batch_id.first())
        return None
    last = [0.0]

    def progress(pct: int) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY_S:
            last[0] = now
            Backtest.objects.filter(pk=backtest.pk).update(progress=min(99, pct))
            backtest.progress = min(99, pct)
            publish_progress(backtest)

    try:
        outcome = execute.run(backtest, progress=progress)
    except (execute.DataMissing, ParameterError, ParameterErrors) as exc:
        _finish(backtest, error=str(exc))
    except Exception as exc:  # a bug must not leave the row running forever
        logger.exception("backtest %s failed", backtest.pk)
        _finish(backtest, error=f"internal error: {type(exc).__name__}")
    else:
        _finish(backtest, outcome=outcome)
    if backtest.batch_id:
        advance_batch(backtest.batch_id)
    return backtest


@transaction.atomic
def _finish(backtest: Backtest, *, outcome=None, error: str = "") -> None:
    backtest.finished_at = timezone.now()
    if outcome is None:
        backtest.status, backtest.error = Status.FAILED, error[:2000]
    else:
        result = outcome.result
        backtest.status, backtest.error = Status.DONE, ""
        backtest.progress = 100
        backtest.metrics = execute.metrics_dict(outcome)
        backtest.monte_carlo = outcome.monte_carlo
        backtest.trades = execute.trade_rows(result)
        backtest.bars = int(result.equity.size)
        backtest.curve = Backtest.pack_curve(result.open_time, result.equity)
    backtest.save()
    record_event(
        action=f"backtest.{'finished' if outcome else 'failed'}",
        organization_id=backtest.organization_id,
        target=backtest,
        changes={"status": backtest.status, "error": backtest.error}
        | ({"total_return": backtest.metrics.get("total_return")} if outcome else {}),
    )
    transaction.on_commit(lambda: publish_progress(backtest))


def publish_progress(backtest: Backtest) -> None:
    """Push status and progress to the Channels group ``backtest.<id>`` (best effort:
    watchers also poll the row)."""
    message = {
        "type": "backtest.progress",
        "id": backtest.pk,
        "status": str(backtest.status),
        "progress": int(backtest.progress),
    }
    _push_to_group(f"backtest.{backtest.pk}", message)


def _push_to_group(group: str, message: dict) -> None:
    """Send `message` to a Channels group; a push that fails is logged, never raised:
    progress pushes never fail a run or a batch."""
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.warning("could not publish progress to %s", group, exc_info=True)


# --- batches --------------------------------------------------------------------------


def _score(backtest: Backtest, objective: str) -> float:
    value = backtest.metrics.get(objective)
    if isinstance(value, str):
        value = {"inf": float("inf"), "-inf": float("-inf")}.get(value, float("-inf"))
    return float("-inf") if value is None else float(value)


def best_run(runs, objective: str) -> Backtest | None:
    """Highest objective among done runs; ties go to the first created."""
    done = [r for r in runs if r.status == Status.DONE]
    return max(done, key=lambda r: (_score(r, objective), -r.pk), default=None)


def advance_batch(batch_id: int) -> BacktestBatch:
    """After a child finished: update progress, start walk-forward test runs whose
    training sweep is complete, and summarise once every run has finished. A change of
    the batch's status or progress is published once committed (`publish_batch_progress`)."""
    new_runs: list[int] = []
    with transaction.atomic():
        batch = BacktestBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status in FINISHED:
            return batch
        before = (batch.status, batch.progress)
        runs = list(batch.runs.order_by("pk"))
        if batch.kind == BacktestBatch.Kind.WALK_FORWARD:
            new_runs = _start_test_runs(batch, runs)
            runs = list(batch.runs.order_by("pk"))
        finished = sum(r.status in FINISHED for r in runs)
        total = _expected_runs(batch, runs)
        batch.progress = min(100, int(100 * finished / total)) if total else 100
        if finished == total:
            batch.summary = _summary(batch, runs)
            batch.status = Status.DONE
            batch.finished_at = timezone.now()
            record_event(
                action="backtest_batch.finished",
                organization_id=batch.organization_id,
                target=batch,
                changes={"runs": total},
            )
        elif batch.status == Status.QUEUED:
            batch.status = Status.RUNNING
        batch.save()
        if (batch.status, batch.progress) != before:
            # The values as committed: a later advance publishes its own.
            transaction.on_commit(
                partial(publish_batch_progress, batch.pk, str(batch.status), batch.progress)
            )
    if new_runs:
        _enqueue_now(new_runs)
    return batch


def publish_batch_progress(batch_id: int, status: str, progress: int) -> None:
    """Push a batch's status and progress to the Channels group ``backtest_batch.<id>``
    (best effort, like `publish_progress`: a page that missed it reads the row when it
    subscribes again)."""
    message = {
        "type": "batch.progress",
        "id": batch_id,
        "status": str(status),
        "progress": int(progress),
    }
    _push_to_group(f"backtest_batch.{batch_id}", message)


def _enqueue_now(ids: list[int]) -> None:
    from .tasks import run_backtest_task

    for pk in ids:
        run_backtest_task.delay(pk)


def _expected_runs(batch: BacktestBatch, runs) -> int:
    if batch.kind != BacktestBatch.Kind.WALK_FORWARD:
        return len(runs)
    folds = len(batch.spec.get("windows", []))
    return sum(1 for r in runs if r.role.startswith("train ")) + folds


def _start_test_runs(batch: BacktestBatch, runs) -> list[int]:
    objective = batch.spec["objective"]
    created = []
    for fold, _ts, _te, test_start, test_end in batch.spec["windows"]:
        train = [r for r in runs if r.role == f"train {fold}"]
        if any(r.role == f"test {fold}" for r in runs):
            continue
        if not train or any(r.status not in FINISHED for r in train):
            continue
        best = best_run(train, objective) or train[0]
        child = Backtest.objects.create(
            **{f: getattr(best, f) for f in _COPIED},
            batch=batch,
            role=f"test {fold}",
            name=f"test {fold}: best of training by {objective}"[:120],
            start=_dt(test_start),
            end=_dt(test_end),
            created_by=batch.created_by,
        )
        created.append(child.pk)
    return created  # the caller queues them once this transaction committed


_COPIED = (
    "organization_id", "account_id", "source_config_id", "strategy", "strategy_version",
    "params", "risk", "risk_profile_name", "environment", "symbols", "interval", "fill_mode",
    "commission", "slippage", "initial_cash", "backfill",
)  # fmt: skip


def _row(run: Backtest) -> dict:
    m = run.metrics
    return {
        "id": run.pk,
        "role": run.role,
        "params": run.params,
        "status": run.status,
        **{k: m.get(k) for k in ("total_return", "sharpe", "max_drawdown", "trades")},
    }


def _summary(batch: BacktestBatch, runs) -> dict:
    objective = batch.spec.get("objective", "sharpe")
    if batch.kind == BacktestBatch.Kind.SWEEP:
        ranked = sorted(
            (r for r in runs if r.status == Status.DONE),
            key=lambda r: (-_score(r, objective), r.pk),
        )
        best = ranked[0] if ranked else None
        return {
            "objective": objective,
            "best": _row(best) if best else None,
            "ranking": [_row(r) for r in ranked],
            "failed": sum(r.status == Status.FAILED for r in runs),
        }
    if batch.kind == BacktestBatch.Kind.WALK_FORWARD:
        return _walk_forward_summary(batch, runs, objective)
    return _compare_summary(runs)


def _walk_forward_summary(batch, runs, objective) -> dict:
    folds, growth = [], 1.0
    for fold, *_ in batch.spec["windows"]:
        test = next((r for r in runs if r.role == f"test {fold}"), None)
        train_best = best_run([r for r in runs if r.role == f"train {fold}"], objective)
        row = {
            "fold": fold,
            "params": test.params if test else None,
            "train": _row(train_best) if train_best else None,
            "test": _row(test) if test else None,
        }
        if test is not None and test.status == Status.DONE:
            growth *= 1 + float(test.metrics["total_return"])
        folds.append(row)
    in_sample = [f["train"]["total_return"] for f in folds if f["train"]]
    out_sample = [
        f["test"]["total_return"] for f in folds if f["test"] and f["test"]["status"] == "done"
    ]
    mean_in = sum(in_sample) / len(in_sample) if in_sample else 0.0
    mean_out = sum(out_sample) / len(out_sample) if out_sample else 0.0
    return execute.finite(
        {
            "objective": objective,
            "folds": folds,
            "out_of_sample_return": growth - 1,
            # Walk-forward efficiency: out-of-sample mean return / in-sample mean return.
            "efficiency": mean_out / mean_in if mean_in else None,
        }
    )


def _compare_summary(runs) -> dict:
    from .engine.bootstrap import paired_bootstrap, per_bar_returns, unpaired_bootstrap

    a = next(r for r in runs if r.role == "A")
    b = next(r for r in runs if r.role == "B")
    out = {"a": _row(a), "b": _row(b)}
    if a.status != Status.DONE or b.status != Status.DONE:
        out["error"] = "a run failed: nothing to compare"
        return out
    ta, ea = a.unpack_curve()
    tb, eb = b.unpack_curve()
    common, ia, ib = np.intersect1d(ta, tb, return_indices=True)
    if common.size >= 10:
        ra = per_bar_returns(ea, float(a.initial_cash))[ia]
        rb = per_bar_returns(eb, float(b.initial_cash))[ib]
        out["per_bar"] = paired_bootstrap(ra, rb, resamples=5000, seed=a.pk).as_dict()
    pa = [float(t["return_pct"]) for t in a.trades]
    pb = [float(t["return_pct"]) for t in b.trades]
    if len(pa) >= 2 and len(pb) >= 2:
        out["per_trade"] = unpaired_bootstrap(pa, pb, resamples=5000, seed=a.pk).as_dict()
    return execute.finite(out)


# --- from a result to a paper run -----------------------------------------------------


@transaction.atomic
def start_paper_run(
    *,
    actor: Actor,
    backtest: Backtest,
    account: ExchangeAccount,
    name: str | None = None,
    risk_profile: RiskProfile | None = None,
) -> StrategyConfig:
    """A paused strategy configuration with the backtest's strategy, parameters, symbols
    and interval, on a paper account of the same organization (trade role there)."""
    require_organization_role(actor, backtest.organization, Action.VIEW)
    if not isinstance(account, ExchangeAccount):
        raise ValidationError("account", "must be an existing exchange account")
    if account.environment != Environment.PAPER:
        raise ValidationError("account", "must be a paper account")
    if account.organization_id != backtest.organization_id:
        raise ValidationError("account", "must belong to the backtest's organization")
    if backtest.status != Status.DONE:
        raise ConflictError(f"this backtest is {backtest.status}, not done")
    if backtest.strategy_version != registry.get(backtest.strategy).version:
        raise ConflictError("the strategy has a new version since this backtest: run it again")
    if risk_profile is None and backtest.source_config_id and backtest.risk:
        risk_profile = backtest.source_config.risk_profile
    config = strategy_services.create_strategy_config(
        actor=actor,
        account=account,
        name=name or f"{backtest.name} (paper)"[:120],
        strategy=backtest.strategy,
        symbols=list(backtest.symbols),
        interval=backtest.interval,
        params=dict(backtest.params),
        risk_profile=risk_profile,
    )
    record_event(
        action="backtest.paper_run_started",
        actor=actor.user,
        organization_id=backtest.organization_id,
        target=backtest,
        changes={"strategy_config": config.pk, "account": account.pk},
    )
    return config


# --- go-live criteria -----------------------------------------------------------------

_CRITERIA_FIELDS = (
    "enabled", "min_sharpe", "min_trades", "min_profit_factor", "max_drawdown",
    "min_period_days", "max_age_days",
)  # fmt: skip


@transaction.atomic
def set_backtest_criteria(
    *, actor: Actor, organization: Organization, **values
) -> BacktestCriteria:
    """Create or change the organization's backtest criteria (risk role)."""
    require_organization_role(actor, organization, Action.RISK)
    unknown = set(values) - set(_CRITERIA_FIELDS)
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a backtest criterion")
    criteria, _created = BacktestCriteria.objects.select_for_update().get_or_create(
        organization=organization
    )
    before = {f: _plain(getattr(criteria, f)) for f in _CRITERIA_FIELDS}
    for field, value in values.items():
        setattr(criteria, field, _criterion(field, value))
    after = {f: _plain(getattr(criteria, f)) for f in _CRITERIA_FIELDS}
    criteria.save()
    record_event(
        action="backtest_criteria.changed",
        actor=actor.user,
        organization_id=organization.pk,
        target=criteria,
        changes={
            f: {"before": before[f], "after": after[f]} for f in after if before[f] != after[f]
        },
    )
    return criteria


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def _criterion(field: str, value):
    if field == "enabled":
        return bool(value)
    if value is None or value == "":
        if field == "min_period_days":
            raise ValidationError(field, "is required")
        return None
    if field in ("min_trades", "min_period_days", "max_age_days"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationError(field, "must be a whole number of at least 0")
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(field, "must be a decimal number") from None
    if not number.is_finite():
        raise ValidationError(field, "must be finite")
    if field == "max_drawdown" and not Decimal(0) <= number <= Decimal(1):
        raise ValidationError(field, "must be a fraction between 0 and 1")
    if abs(number) >= 10_000:
        raise ValidationError(field, "must be below 10000 in size")
    return number
