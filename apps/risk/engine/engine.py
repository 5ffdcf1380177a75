"""Sizes a proposed long entry for one account, or rejects it, with every reason."""

from __future__ import annotations

from decimal import Decimal

from apps.strategies.engine.errors import ParameterError

from . import rules
from .config import RiskConfig
from .decision import Outcome, RiskDecision, RuleVerdict
from .exits import initial_stop
from .money import ZERO, floor_significant, floor_to_step
from .sizing import base_quantity
from .state import AccountState, TradeProposal, account_totals


def _require_decimals(account: AccountState, proposal: TradeProposal) -> None:
    """Money crosses this boundary as Decimal only: a float here is a caller's bug."""
    for field, value in (
        ("equity", account.equity),
        ("peak_equity", account.peak_equity),
        ("day_start_equity", account.day_start_equity),
        ("entry", proposal.entry),
        ("stop", proposal.stop),
        ("target", proposal.target),
        ("atr", proposal.atr),
        ("quantity", proposal.quantity),
    ):
        if value is not None and type(value) is not Decimal:
            raise ParameterError(field, "must be a Decimal (convert floats explicitly)")


def _quantize(quantity: Decimal, step: Decimal | None) -> Decimal:
    """Down to the symbol's step, then to 12 significant digits (see floor_significant)."""
    if step is not None:
        quantity = floor_to_step(quantity, step)
    return floor_significant(quantity)


def _reject(verdicts, alerts=(), halt=False, stop=None, target=None) -> RiskDecision:
    return RiskDecision(
        Outcome.REJECTED, ZERO, stop, target, ZERO, ZERO, tuple(verdicts), tuple(alerts), halt
    )


def evaluate_entry(
    config: RiskConfig, account: AccountState, proposal: TradeProposal
) -> RiskDecision:
    """Run every rule and return the decision.

    Gates (drawdown, daily loss, trade count, cooldown, reserved balance, open
    positions, reward:risk, spread; slippage on the final size) reject; caps (position
    size, free balance, correlation, sector exposure, portfolio heat) shrink the size to
    the largest quantity that keeps every limit. All verdicts are returned so the
    decision record shows each reason.
    """
    _require_decimals(account, proposal)
    verdicts: list[RuleVerdict] = []
    alerts: list[str] = []
    halt = False
    if account.equity <= 0 or proposal.entry <= 0:
        verdicts.append(RuleVerdict("inputs", False, "equity and entry price must be positive"))
        return _reject(verdicts)

    totals = account_totals(account)
    breaker = rules.drawdown_breaker(config, account)
    verdicts.append(breaker)
    if not breaker.passed:
        alerts.append(breaker.reason)
        halt = config.drawdown_mode == "halt"
    verdicts.append(rules.daily_loss(config, account))
    if not proposal.addition:
        verdicts.append(rules.trades_per_day(config, account))
    verdicts.append(rules.loss_cooldown(config, account))
    reserved = rules.reserved_balance(config, totals)
    verdicts.append(reserved)
    if not reserved.passed:
        alerts.append(reserved.reason)
    verdicts.append(rules.open_positions(config, totals, proposal.symbol))

    stop = proposal.stop
    if stop is None:
        stop = initial_stop(proposal.entry, proposal.atr, None, config.exits)
    if stop is None or stop >= proposal.entry or stop < 0:
        verdicts.append(
            RuleVerdict("stop", False, "no usable stop below the entry (no stop and no ATR)")
        )
        return _reject(verdicts, alerts, halt, stop, proposal.target)
    verdicts.append(rules.reward_risk(config, proposal, stop))
    spread = rules.spread(config, proposal)
    if spread is not None:
        verdicts.append(spread)
    if not all(v.passed for v in verdicts):
        return _reject(verdicts, alerts, halt, stop, proposal.target)

    # Sizing.
    if proposal.addition:
        if proposal.quantity is None or proposal.quantity <= 0:
            verdicts.append(RuleVerdict("sizing", False, "an addition needs a quantity"))
            return _reject(verdicts, alerts, halt, stop, proposal.target)
        wanted, why = proposal.quantity, "pyramid addition"
    else:
        wanted, why = base_quantity(
            config=config,
            equity=account.equity,
            stats=account.stats,
            entry=proposal.entry,
            stop=stop,
            atr=proposal.atr,
            quote_rate=proposal.quote_rate,
        )
    # Quantize before comparing with the caps, so that rounding alone never reads as
    # "resized".
    wanted = _quantize(wanted, proposal.quantity_step)
    verdicts.append(RuleVerdict("sizing", wanted > 0, why, wanted))
    if wanted <= 0:
        return _reject(verdicts, alerts, halt, stop, proposal.target)

    # Caps, each allowing at most some quantity.
    unit_value = proposal.entry * proposal.quote_rate
    unit_risk = (proposal.entry - stop) * proposal.quote_rate
    caps = [
        rules.position_caps(config, account, totals, proposal.symbol, unit_value),
        rules.cash(totals, proposal),
        rules.correlation(config, totals, proposal, wanted),
        rules.sector_exposure(config, account, totals, proposal, unit_value),
        rules.portfolio_heat(config, account, totals, unit_risk),
    ]
    verdicts.extend(caps)
    quantity = wanted
    for cap in caps:
        if cap.max_quantity is not None and cap.max_quantity < quantity:
            quantity = cap.max_quantity
    quantity = _quantize(quantity, proposal.quantity_step)
    if not all(c.passed for c in caps) or quantity <= 0:
        return _reject(verdicts, alerts, halt, stop, proposal.target)
    if quantity < proposal.min_quantity or quantity * proposal.entry < proposal.min_notional:
        verdicts.append(
            RuleVerdict("exchange_minimum", False, f"{quantity} is below the symbol's minimum")
        )
        return _reject(verdicts, alerts, halt, stop, proposal.target)
    # Slippage depends on the size, so it is checked on the final quantity.
    slippage = rules.slippage(config, proposal, quantity)
    if slippage is not None:
        verdicts.append(slippage)
        if not slippage.passed:
            return _reject(verdicts, alerts, halt, stop, proposal.target)

    outcome = Outcome.APPROVED if quantity == wanted else Outcome.RESIZED
    return RiskDecision(
        outcome=outcome,
        quantity=quantity,
        stop=stop,
        target=proposal.target,
        risk_amount=quantity * unit_risk,
        notional=quantity * unit_value,
        verdicts=tuple(verdicts),
        alerts=tuple(alerts),
        halt=halt,
    )


def heat_after(account: AccountState, decision: RiskDecision) -> Decimal:
    """Portfolio heat as a share of equity once ``decision`` is filled."""
    return (account.heat + decision.risk_amount) / account.equity
