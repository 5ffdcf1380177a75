"""Exit management for one open long position, evaluated every cycle.

Pure: takes the position's state and the market, returns the new state and the
actions to take. Stops only ever move up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from decimal import Decimal

from .config import ExitConfig
from .money import ZERO

_HOUR_MS = 3_600_000


def initial_stop(
    entry: Decimal, atr: Decimal | None, strategy_stop: Decimal | None, config: ExitConfig
) -> Decimal | None:
    """The strategy's stop when it gave one, else ``stop_atr_multiple`` ATRs below the
    entry; None when neither is available."""
    if strategy_stop is not None:
        return strategy_stop
    if atr is None or atr <= 0:
        return None
    return entry - atr * config.stop_atr_multiple


class ExitKind(enum.StrEnum):
    EXIT_ALL = "exit_all"
    SELL = "sell"  # a partial take-profit
    ADD = "add"  # a pyramid addition: still to be approved by the risk engine
    MOVE_STOP = "move_stop"


@dataclass(frozen=True, slots=True)
class ExitAction:
    kind: ExitKind
    quantity: Decimal
    reason: str
    price: Decimal | None = None  # the new stop for MOVE_STOP


@dataclass(frozen=True, slots=True)
class PositionState:
    """What exit management remembers about a position between cycles."""

    entry_price: Decimal  # average cost
    quantity: Decimal  # held now
    original_quantity: Decimal  # size of the first fill, the base of ladder and pyramid
    opened_at_ms: int
    stop_price: Decimal | None
    highest_price: Decimal
    breakeven_done: bool = False
    ladder_done: int = 0  # ladder steps already taken
    additions: int = 0


@dataclass(frozen=True, slots=True)
class ExitPlan:
    state: PositionState
    actions: tuple[ExitAction, ...]

    @property
    def closes(self) -> bool:
        return any(a.kind is ExitKind.EXIT_ALL for a in self.actions) or self.state.quantity <= 0


def _trailing_stop(state: PositionState, atr: Decimal | None, config: ExitConfig) -> Decimal | None:
    peak, entry = state.highest_price, state.entry_price
    if peak < entry * (1 + config.trailing_activation):
        return None
    if config.trailing_mode == "atr":
        if atr is None or atr <= 0:
            return None
        distance = atr * config.trailing_atr_multiple
    else:
        distance = max(
            peak * config.trailing_min_distance, (peak - entry) * config.trailing_profit_share
        )
    return peak - distance


def evaluate_position(
    state: PositionState,
    *,
    price: Decimal,
    now_ms: int,
    config: ExitConfig,
    high: Decimal | None = None,
    atr: Decimal | None = None,
) -> ExitPlan:
    """One cycle of exit management at ``price`` (the last close; ``high`` the
    candle's high, used for trailing). Order: stop hit, time exit, take-profit ladder,
    break-even, trailing stop, pyramiding."""
    actions: list[ExitAction] = []
    peak = max(state.highest_price, price, high if high is not None else price)
    state = replace(state, highest_price=peak)
    entry = state.entry_price
    gain = (price - entry) / entry

    if state.stop_price is not None and price <= state.stop_price:
        actions.append(
            ExitAction(ExitKind.EXIT_ALL, state.quantity, f"stop {state.stop_price} hit at {price}")
        )
        return ExitPlan(replace(state, quantity=ZERO), tuple(actions))

    if config.time_exit_hours is not None:
        held_ms = now_ms - state.opened_at_ms
        if held_ms >= config.time_exit_hours * _HOUR_MS and gain < config.time_exit_min_gain:
            actions.append(
                ExitAction(
                    ExitKind.EXIT_ALL,
                    state.quantity,
                    f"open {held_ms // _HOUR_MS} h with gain {gain:.2%} "
                    f"< {config.time_exit_min_gain:.2%}",
                )
            )
            return ExitPlan(replace(state, quantity=ZERO), tuple(actions))

    remaining, done = state.quantity, state.ladder_done
    while done < len(config.ladder) and remaining > 0 and gain >= config.ladder[done].gain:
        step = config.ladder[done]
        is_last = done == len(config.ladder) - 1
        sell = remaining if is_last else min(remaining, state.original_quantity * step.fraction)
        remaining -= sell
        done += 1
        actions.append(
            ExitAction(ExitKind.SELL, sell, f"take profit {step.fraction:.0%} at +{step.gain:.1%}")
        )
    state = replace(state, quantity=remaining, ladder_done=done)
    if remaining <= 0:
        return ExitPlan(state, tuple(actions))

    new_stop = state.stop_price
    breakeven_done = state.breakeven_done
    if config.breakeven_enabled and (breakeven_done or gain >= config.breakeven_trigger):
        breakeven_done = True
        level = config.breakeven_price(entry)
        if new_stop is None or level > new_stop:
            new_stop = level
    if config.trailing_enabled:
        trail = _trailing_stop(state, atr, config)
        if trail is not None and (new_stop is None or trail > new_stop):
            new_stop = trail
    if new_stop != state.stop_price:
        actions.append(ExitAction(ExitKind.MOVE_STOP, ZERO, f"stop raised to {new_stop}", new_stop))
    state = replace(state, stop_price=new_stop, breakeven_done=breakeven_done)

    sold = any(a.kind is ExitKind.SELL for a in actions)
    next_addition = state.additions + 1
    if (
        not sold
        and state.additions < config.pyramid_max_additions
        and gain >= config.pyramid_trigger * next_addition
    ):
        actions.append(
            ExitAction(
                ExitKind.ADD,
                state.original_quantity * config.pyramid_fraction,
                f"pyramid addition {next_addition} of {config.pyramid_max_additions} "
                f"at {gain:+.2%} (needs risk approval)",
            )
        )
    return ExitPlan(state, tuple(actions))


def record_addition(state: PositionState, quantity: Decimal, price: Decimal) -> PositionState:
    """State after a pyramid addition filled: new average cost, one more addition."""
    total = state.quantity + quantity
    average = (state.entry_price * state.quantity + price * quantity) / total
    return replace(state, quantity=total, entry_price=average, additions=state.additions + 1)
