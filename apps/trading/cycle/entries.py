"""A new long entry: the risk engine sizes the signal for this account (or rejects it
with every reason), the size is fitted to the symbol's filters and sent at market."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F

from apps.marketdata.selectors import liquidity_summary
from apps.risk.engine import RiskConfig, RiskDecision, TradeProposal, evaluate_entry
from apps.risk.engine.liquidity import BookView

from ..models import Position
from ..states import OrderStatus
from ..valuation import rate
from .correlations import held_correlations
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


def order_book(*, risk_config: RiskConfig, symbol_row) -> BookView | None:
    """The order book the liquidity limits read: the streams' fresh summary, or an
    empty view (which they refuse) when there is none; None when no limit is set."""
    if risk_config.max_spread_bps is None and risk_config.max_slippage_bps is None:
        return None
    summary = liquidity_summary(environment=symbol_row.environment, symbol=symbol_row.name)
    return summary.book if summary is not None else BookView(symbol_row.name)


def propose(
    *, group, symbol_row, account, rules, gateway, candles=None, held=(), book=None
) -> TradeProposal:
    """The signal as a proposal at the trigger candle's close. `candles` is the
    trigger's (interval, open time in ms): with `held` (the symbols the account holds)
    it gives the correlations the risk engine's correlation cap reads. `book`: see
    `order_book`."""
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
        correlations=_correlations(symbol_row, candles, held),
        book=book,
    )


def _correlations(symbol_row, candles, held) -> dict[str, float]:
    if candles is None:
        return {}
    interval, open_time_ms = candles
    return held_correlations(
        environment=symbol_row.environment,
        symbol=symbol_row.name,
        interval=interval,
        open_time_ms=open_time_ms,
        held=held,
    )


def enter(
    *,
    config,
    risk_config: RiskConfig,
    account_state,
    group,
    symbol_row,
    trigger,
    rules,
    gateway,
    candles=None,
) -> EntryOutcome:
    """`candles`: the trigger's (interval, open time in ms), for the correlation cap."""
    proposal = propose(
        group=group,
        symbol_row=symbol_row,
        account=config.account,
        rules=rules,
        gateway=gateway,
        candles=candles,
        held=[p.symbol for p in account_state.positions],
        book=order_book(risk_config=risk_config, symbol_row=symbol_row),
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


def add_to_position(
    *,
    config,
    risk_config: RiskConfig,
    account_state,
    position,
    addition,
    group,
    symbol_row,
    trigger,
    rules,
    gateway,
) -> EntryOutcome:
    """A pyramid addition the exit engine asked for: the risk engine sizes it against
    the account as it stands (heat, caps, daily limits), then it is bought at market.
    The fill joins the open position; protection resizes to the new quantity."""
    proposal = TradeProposal(
        symbol=symbol_row.name,
        entry=group.close,
        stop=position.stop_price,
        atr=None,
        sectors=frozenset(symbol_row.sector_tags or ()),
        quote_asset=symbol_row.quote_asset,
        quote_rate=rate(
            config.account.environment,
            symbol_row.quote_asset,
            config.account.valuation_currency,
            gateway=gateway,
        )
        or ONE,
        addition=True,
        quantity=addition.quantity,
        quantity_step=rules.lot.step_size or None,
        min_quantity=rules.lot.min_qty,
        min_notional=rules.notional.min_notional if rules.notional else ZERO,
        book=order_book(risk_config=risk_config, symbol_row=symbol_row),
    )
    decision = evaluate_entry(risk_config, account_state, proposal)
    outcome = EntryOutcome(risk=decision)
    if decision.approved:
        outcome.placed = place_market(
            config=config,
            symbol=symbol_row.name,
            trigger=trigger,
            intent="pyramid",
            side="BUY",
            quantity=decision.quantity,
            rules=rules,
            reference_price=group.close,
            gateway=gateway,
            position=position,
            n=position.additions,
        )
        order = outcome.placed.order
        if order is not None and order.status == OrderStatus.FILLED:
            Position.objects.filter(pk=position.pk).update(additions=F("additions") + 1)
    return outcome
