"""Which protective orders a position needs now: pure, no I/O, no Django models.

One OCO per remaining take-profit tranche of the exit ladder (a LIMIT_MAKER take-profit
above the market and a STOP_LOSS_LIMIT below it), so that every unit of the position is
covered by the stop leg of exactly one OCO while the ladder waits. Where the symbol
does not allow OCO, or the ladder was canceled, one STOP_LOSS_LIMIT covers everything.

Tranches follow `apps.risk.engine.exits`: step `i` sells `fraction` of the ORIGINAL
quantity at `average entry * (1 + gain)`; the last step sells whatever is left. What a
tranche already sold through earlier (partially filled) take-profit orders is taken off
it. Quantities are floored to the lot step, prices put on the tick (a seller's prices
round up, as `apps.exchange.filters` does); a tranche too small for the lot or the
minimum notional merges into the next one (the last one into the one before).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from apps.exchange.filters import SymbolRules, ceil_to_step, floor_to_step
from apps.risk.engine.config import ExitConfig

ZERO = Decimal(0)
# The stop leg's limit sits this far below its trigger, so that a fast market still
# fills it (a STOP_LOSS_LIMIT whose limit the market skips stays unfilled).
STOP_LIMIT_BUFFER = Decimal("0.01")
STOP_ONLY_TRANCHE = -1  # the tranche number of a plain stop covering the position

NO_STOP = "no_stop"
NOTHING_TO_PROTECT = "nothing_to_protect"
BELOW_MINIMUM = "below_minimum"


@dataclass(frozen=True, slots=True)
class PlannedProtection:
    """One protective order: an OCO (take-profit and stop legs) or a lone stop."""

    tranche: int  # ladder step index, or STOP_ONLY_TRANCHE
    quantity: Decimal
    stop_price: Decimal
    stop_limit_price: Decimal
    take_profit_price: Decimal | None = None  # None: a STOP_LOSS_LIMIT alone

    @property
    def is_oco(self) -> bool:
        return self.take_profit_price is not None


@dataclass(frozen=True, slots=True)
class ProtectionPlan:
    orders: tuple[PlannedProtection, ...]
    uses_oco: bool
    uncovered: Decimal = ZERO  # below one lot step, or everything when `problem` is set
    problem: str = ""

    @property
    def covered(self) -> Decimal:
        return sum((order.quantity for order in self.orders), ZERO)


@dataclass(frozen=True, slots=True)
class PositionView:
    """The fields of a position the plan reads (a `Position` row has them all)."""

    quantity: Decimal
    original_quantity: Decimal
    average_entry_price: Decimal
    stop_price: Decimal | None
    ladder_done: int = 0
    ladder_canceled: bool = False


def _step(rules: SymbolRules) -> Decimal:
    step = rules.lot.step_size
    return step if step > 0 else Decimal(1).scaleb(-rules.base_precision)


def _sell_price(price: Decimal, rules: SymbolRules) -> Decimal:
    price = ceil_to_step(price, rules.price.tick_size)
    if rules.price.min_price > 0 and price < rules.price.min_price:
        return rules.price.min_price
    return price


def stop_prices(stop: Decimal, rules: SymbolRules) -> tuple[Decimal, Decimal]:
    """(trigger, limit) of a sell stop at `stop`, on the symbol's tick."""
    trigger = _sell_price(stop, rules)
    limit = _sell_price(trigger * (1 - STOP_LIMIT_BUFFER), rules)
    return trigger, min(limit, trigger)


def _fits(quantity: Decimal, price: Decimal, rules: SymbolRules) -> bool:
    """Both legs of an order of `quantity` pass LOT_SIZE and the minimum notional at
    `price` (the lowest of its prices)."""
    if quantity <= 0 or quantity < rules.lot.min_qty:
        return False
    notional = rules.notional
    return notional is None or quantity * price >= notional.min_notional


def _tranche_targets(
    position, config: ExitConfig, total: Decimal, step: Decimal, sold: Mapping[int, Decimal]
) -> list[tuple[int, Decimal]]:
    ladder = config.ladder
    original = position.original_quantity or position.quantity
    remaining, tranches = total, []
    for index in range(position.ladder_done, len(ladder)):
        if index == len(ladder) - 1:
            quantity = remaining
        else:
            target = original * ladder[index].fraction - sold.get(index, ZERO)
            quantity = min(remaining, floor_to_step(max(target, ZERO), step))
        remaining -= quantity
        tranches.append((index, quantity))
    return tranches


def _merge_small(
    tranches: list[tuple[int, Decimal]], price: Decimal, rules: SymbolRules
) -> list[tuple[int, Decimal]]:
    """A tranche the filters would refuse joins the next; the last joins the previous."""
    kept: list[tuple[int, Decimal]] = []
    carry = ZERO
    for index, quantity in tranches:
        quantity += carry
        carry = ZERO
        if _fits(quantity, price, rules):
            kept.append((index, quantity))
        else:
            carry = quantity
    if carry > 0 and kept:
        index, quantity = kept[-1]
        kept[-1] = (index, quantity + carry)
    return kept


def plan_protection(
    *,
    position,
    exit_config: ExitConfig,
    rules: SymbolRules,
    sold_by_tranche: Mapping[int, Decimal] | None = None,
) -> ProtectionPlan:
    """The protective orders `position` needs now (see the module docstring).

    `position` has the fields of `PositionView`; `sold_by_tranche` maps a ladder step to
    what its take-profit orders sold so far without completing it.
    """
    step = _step(rules)
    total = floor_to_step(max(position.quantity, ZERO), step)
    uncovered = position.quantity - total
    ladder_left = len(exit_config.ladder) - position.ladder_done
    uses_oco = rules.oco_allowed and not position.ladder_canceled and ladder_left > 0
    if total <= 0:
        return ProtectionPlan((), uses_oco, position.quantity, NOTHING_TO_PROTECT)
    if position.stop_price is None or position.stop_price <= 0:
        return ProtectionPlan((), uses_oco, position.quantity, NO_STOP)
    stop, limit = stop_prices(position.stop_price, rules)
    if not _fits(total, limit, rules):
        return ProtectionPlan((), uses_oco, position.quantity, BELOW_MINIMUM)
    if not uses_oco:
        order = PlannedProtection(STOP_ONLY_TRANCHE, total, stop, limit)
        return ProtectionPlan((order,), False, uncovered)
    tranches = _tranche_targets(position, exit_config, total, step, sold_by_tranche or {})
    entry = position.average_entry_price
    orders = tuple(
        PlannedProtection(
            index,
            quantity,
            stop,
            limit,
            _sell_price(entry * (1 + exit_config.ladder[index].gain), rules),
        )
        for index, quantity in _merge_small(tranches, limit, rules)
    )
    return ProtectionPlan(orders, True, uncovered)
