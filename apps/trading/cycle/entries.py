"""A new long entry: the risk engine sizes the signal for this account (or rejects it
with every reason), the size is fitted to the symbol's filters and sent at market."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.risk.engine import RiskConfig, RiskDecision, TradeProposal, evaluate_entry

from ..valuation import rate
from .market_orders import Placed, place_market

ONE, ZERO = Decimal(1), Decimal(0)


@dataclass
class EntryOutcome:
    risk: RiskDecision | None = None
    placed: Placed | None = None
    ramp: dict | None = None  # a newly live config's reduced size, when it applied


def ramped(*, config, quantity: Decimal, rules, price: Decimal) -> Decimal:
    """The risk-approved quantity reduced by the go-live ramp-up: from the symbol's
    minimum order towards the full size over the ramp (apps/trading/rampup.py)."""
    from django.utils import timezone

    from apps.exchange.filters import ceil_to_step, floor_to_step

    from ..rampup import ramp_quantity

    step = rules.lot.step_size or Decimal("1e-8")
    min_notional = rules.notional.min_notional if rules.notional else ZERO
    minimum = max(rules.lot.min_qty, ceil_to_step(min_notional / price, step) if price else ZERO)
    allowed = ramp_quantity(
        config=config, wanted=quantity, min_quantity=minimum, now=timezone.now()
    )
    return min(quantity, max(minimum, floor_to_step(allowed, step)))


def risk_config_for(config) -> RiskConfig:
    profile = config.risk_profile
    return profile.to_engine_config() if profile is not None else RiskConfig()


def propose(*, group, symbol_row, account, rules, gateway) -> TradeProposal:
    """The signal as a proposal at the trigger candle's close."""
    quote_rate = rate(
        account.environment, symbol_row.quote_asset, account.valuation_currency, gateway=gateway
    )
    return TradeProposal.from_signal(
        group.signal,
        entry=group.close,
        atr=None if group.atr is None else float(group.atr),
        sectors=frozenset(symbol_row.sector_tags or ()),
        quote_asset=symbol_row.quote_asset,
        quote_rate=quote_rate or ONE,
        quantity_step=rules.lot.step_size or None,
        min_quantity=rules.lot.min_qty,
        min_notional=rules.notional.min_notional if rules.notional else ZERO,
    )


def enter(
    *, config, risk_config: RiskConfig, account_state, group, symbol_row, trigger, rules, gateway
) -> EntryOutcome:
    proposal = propose(
        group=group, symbol_row=symbol_row, account=config.account, rules=rules, gateway=gateway
    )
    decision = evaluate_entry(risk_config, account_state, proposal)
    outcome = EntryOutcome(risk=decision)
    if decision.approved:
        quantity = ramped(config=config, quantity=decision.quantity, rules=rules, price=group.close)
        if quantity != decision.quantity:
            outcome.ramp = {"approved": str(decision.quantity), "ramped": str(quantity)}
        outcome.placed = place_market(
            config=config,
            symbol=symbol_row.name,
            trigger=trigger,
            intent="entry",
            side="BUY",
            quantity=quantity,
            rules=rules,
            reference_price=group.close,
            gateway=gateway,
        )
    return outcome
