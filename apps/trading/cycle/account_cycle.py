"""One (account, config) evaluation on one closed candle, under the account's lock and
at most once per trigger: refresh state -> exit management -> risk -> execution, and
one Decision that records all of it (skips and refusals included)."""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass

import structlog

from apps.exchange.for_account import gateway_for_account
from apps.marketdata.times import ms_to_datetime
from apps.monitoring.metrics import CANDLE_LAG_SECONDS, CYCLE_SECONDS
from apps.strategies.engine import Action
from apps.strategies.models import StrategyConfig

from .. import protection
from ..locks import AccountLock, Claim, TriggerGuard
from ..models import Decision, Position
from ..services import record_decision
from .entries import add_to_position, enter, risk_config_for
from .exits import manage_position
from .gates import entry_block_reason
from .positions import halt_if_limits_tripped, link_orders, set_initial_stop

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trigger:
    environment: str
    symbol: str
    interval: str
    open_time_ms: int
    close_time_ms: int

    @property
    def id(self) -> str:
        return f"{self.symbol}:{self.interval}:{self.open_time_ms}"

    def guard_key(self, config_id: int) -> str:
        # Per config: two configs of one account on one candle are two evaluations.
        return f"{self.id}:{config_id}"


class Result(enum.StrEnum):
    EVALUATED = "evaluated"
    SKIPPED = "skipped"  # handled already, or being handled by another worker
    STALE = "stale"
    BUSY = "busy"  # the account's lock stayed taken: retry later
    FAILED = "failed"  # an error before the decision was complete: retry later


def run_account(*, config_id: int, trigger: Trigger, group, symbol_row, redis) -> Result:
    config = StrategyConfig.objects.select_related("account", "risk_profile").get(pk=config_id)
    # Every log line of this evaluation names its account, config and trigger.
    with structlog.contextvars.bound_contextvars(
        account_id=config.account_id, config_id=config.pk, trigger=trigger.id
    ):
        return _run_account(config, trigger, group, symbol_row, redis)


def _run_account(config, trigger: Trigger, group, symbol_row, redis) -> Result:
    started = time.perf_counter()
    account = config.account
    guard = TriggerGuard(redis)
    key = trigger.guard_key(config.pk)
    claim = guard.claim(account.pk, key, trigger.close_time_ms)
    if claim in (Claim.DONE, Claim.IN_PROGRESS):
        return Result.SKIPPED
    if claim is Claim.STALE:
        _record_stale(config, trigger, group, redis, guard)
        return Result.STALE
    if claim is Claim.RETAKEN and _decided_before(config, trigger):
        # The worker that claimed it died between recording its decision (the last
        # step, after any order) and marking the trigger done: nothing is left to do.
        guard.complete(account.pk, key)
        return Result.SKIPPED
    try:
        if _quiet(config, trigger, group):
            try:
                # Known to hold no position a moment ago: no second lookup.
                evaluate(
                    config=config, trigger=trigger, group=group, symbol_row=symbol_row,
                    position=None,
                )  # fmt: skip
            except NeedsLock:  # a position appeared meanwhile (a fill): take the lock
                if not _evaluate_locked(config, trigger, group, symbol_row, redis):
                    guard.abandon(account.pk, key)
                    return Result.BUSY
        elif not _evaluate_locked(config, trigger, group, symbol_row, redis):
            guard.abandon(account.pk, key)
            return Result.BUSY
    except Exception as error:
        logger.exception("cycle failed", extra={"config_id": config.pk, "trigger": trigger.id})
        guard.abandon(account.pk, key)
        _record(config, trigger, group, inputs={}, error=f"{type(error).__name__}: {error}")
        CYCLE_SECONDS.labels(outcome="failed").observe(time.perf_counter() - started)
        return Result.FAILED
    guard.complete(account.pk, key)
    CYCLE_SECONDS.labels(outcome="evaluated").observe(time.perf_counter() - started)
    return Result.EVALUATED


def _decided_before(config, trigger: Trigger) -> bool:
    opened = ms_to_datetime(trigger.open_time_ms)
    return Decision.objects.filter(
        strategy_config_id=config.pk, symbol=trigger.symbol, interval=trigger.interval,
        candle_open_time=opened, error="",
    ).exists()  # fmt: skip


class NeedsLock(Exception):
    """Raised by an evaluation started without the account's lock that finds it has
    something to manage or enter after all."""


def _quiet(config, trigger: Trigger, group) -> bool:
    """Nothing to enter and no position to manage: the evaluation only records its
    decision, so it needs no account lock (the lock serialises exchange actions; the
    trigger guard already makes the evaluation happen once). Most candles are quiet,
    so this keeps the fan-out's cost per account low."""
    return group.signal.action is not Action.ENTER_LONG and (
        _open_position(config, trigger.symbol) is None
    )


def _evaluate_locked(config, trigger: Trigger, group, symbol_row, redis) -> bool:
    """The evaluation under the account's lock; False when the lock stayed taken."""
    lock = AccountLock(redis, config.account_id)
    if not lock.acquire():
        return False
    try:
        evaluate(config=config, trigger=trigger, group=group, symbol_row=symbol_row, lock=lock)
    finally:
        lock.release()
    return True


def _record_stale(config, trigger: Trigger, group, redis, guard: TriggerGuard) -> None:
    # Once per (config, trigger), however often a late task is redelivered.
    marker = f"trading:stale:{config.account_id}:{trigger.guard_key(config.pk)}"
    if redis.set(marker, "1", nx=True, ex=guard.memory_s):
        age = int(time.time() * 1000) - trigger.close_time_ms
        reason = f"stale trigger: candle closed {age} ms ago (max {guard.max_age_ms} ms)"
        _record(config, trigger, group, inputs={"skipped": reason})


def _record(
    config,
    trigger: Trigger,
    group,
    *,
    inputs: dict,
    risk=None,
    exits=None,
    placed=(),
    error: str = "",
):
    decision = record_decision(
        config=config,
        symbol=trigger.symbol,
        candle_open_time=ms_to_datetime(trigger.open_time_ms),
        signal=group.signal,
        fingerprint=group.fingerprint,
        inputs={
            "trigger": trigger.id,
            "price": group.close,
            "candle_source": group.source,
            **inputs,
        },
        risk=risk,
        exits=exits,
        orders=[p.client_order_id for p in placed if p.order is not None],
        error=error,
    )
    link_orders(decision=decision, order_ids=[p.order.pk for p in placed if p.order is not None])
    CANDLE_LAG_SECONDS.observe(max(0.0, time.time() - trigger.close_time_ms / 1000))
    return decision


def _open_position(config, symbol: str) -> Position | None:
    return Position.objects.filter(
        account_id=config.account_id,
        strategy_config=config,
        symbol=symbol,
        status=Position.Status.OPEN,
    ).first()


_LOOK_UP = object()


def evaluate(
    *, config, trigger: Trigger, group, symbol_row, lock: AccountLock | None = None,
    position=_LOOK_UP,
):  # fmt: skip
    """The evaluation proper. Without `lock` it may only record a quiet decision and
    raises NeedsLock as soon as it has a position to manage or an entry to make."""
    from .account_state import refresh_state

    account = config.account
    signal = group.signal
    inputs: dict = {}
    if group.close is None or signal.action is Action.ERROR:
        return _record(config, trigger, group, inputs={"skipped": signal.reason})
    block = entry_block_reason(account, config, symbol_row)
    if block:
        inputs["entry_blocked"] = block
    if position is _LOOK_UP:
        position = _open_position(config, trigger.symbol)
    wants_entry = signal.action is Action.ENTER_LONG and position is None and not block
    if position is None and not wants_entry:
        return _record(config, trigger, group, inputs=inputs)
    if lock is None:
        raise NeedsLock

    gateway = gateway_for_account(account)
    rules = gateway.symbol_rules(trigger.symbol)
    risk_config = risk_config_for(config)
    now_ms = int(time.time() * 1000)
    exits, placed, risk = [], [], None

    def account_state():
        """Balances from the exchange, recorded in the decision's inputs."""
        state = refresh_state(
            account=account, gateway=gateway, marks={trigger.symbol: group.close}, now_ms=now_ms
        )
        inputs["account"] = state.as_inputs()
        return state.state

    if position is not None:
        outcome = manage_position(
            position=position,
            exit_config=risk_config.exits,
            trigger=trigger.id,
            price=group.close,
            high=group.high,
            atr=group.atr,
            now_ms=now_ms,
            gateway=gateway,
            sell_signal=signal.action is Action.EXIT,
        )
        exits, placed = outcome.actions, list(outcome.placed)
        position = None if outcome.closed else position
        if position is not None and outcome.addition is not None and lock.held:
            state = account_state()
            inputs["pyramid"] = outcome.addition.reason
            added = add_to_position(
                config=config,
                risk_config=risk_config,
                account_state=state,
                position=position,
                addition=outcome.addition,
                group=group,
                symbol_row=symbol_row,
                trigger=trigger.id,
                rules=rules,
                gateway=gateway,
            )
            risk = added.risk
            if added.placed is not None:
                placed.append(added.placed)

    if wants_entry:
        if not lock.held:  # outlived the lock: another cycle may be running
            return _record(
                config,
                trigger,
                group,
                inputs={**inputs, "skipped": "lock lost"},
                exits=exits,
                placed=placed,
            )
        state = account_state()
        entry = enter(
            config=config,
            risk_config=risk_config,
            account_state=state,
            group=group,
            symbol_row=symbol_row,
            trigger=trigger.id,
            rules=rules,
            gateway=gateway,
            candles=(trigger.interval, trigger.open_time_ms),
        )
        risk = entry.risk
        if entry.placed is not None:
            placed.append(entry.placed)
        if halt_if_limits_tripped(account=account, risk=risk):
            inputs["halted"] = "; ".join(risk.reasons)
        if entry.ramp is not None:
            inputs["ramp_up"] = entry.ramp
        position = _open_position(config, trigger.symbol)
        if position is not None and risk.approved:
            set_initial_stop(position=position, stop=risk.stop, reason=f"entry on {trigger.id}")

    inputs["orders"] = [p.as_record() for p in placed]
    if position is not None:
        protection.sync_protection(
            position=position, exit_config=risk_config.exits, gateway=gateway
        )
    return _record(config, trigger, group, inputs=inputs, risk=risk, exits=exits, placed=placed)
