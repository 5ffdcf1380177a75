"""Exit management of one open position in a cycle: the pure engine decides, the new
state is persisted on the position, and exits at market are sent.

Protective orders on the exchange (an OCO per take-profit tranche, stop moves) belong
to `apps.trading.protection`; when it is present it also performs exits at market.
Without it the cycle sells at market itself, so a position is never stuck."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from apps.risk.engine import ExitConfig, evaluate_position
from apps.risk.engine.exits import ExitKind

from ..models import Position
from ..selectors import exit_state
from .market_orders import Placed, cancel_resting, place_market
from .positions import save_exit_state


def protection_module():
    """`apps.trading.protection` if it exists yet (built separately)."""
    try:
        from apps.trading import protection
    except ImportError:  # TODO(lead): drop once apps/trading/protection.py has landed
        return None
    return protection


@dataclass
class ExitOutcome:
    actions: list[dict] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)
    closed: bool = False


def _action_record(action) -> dict:
    return {
        "kind": str(action.kind),
        "quantity": str(action.quantity),
        "reason": action.reason,
        "price": None if action.price is None else str(action.price),
    }


def exit_at_market(
    *,
    position: Position,
    config,
    trigger: str,
    reason: str,
    rules,
    price: Decimal | None,
    gateway,
    outcome: ExitOutcome,
) -> None:
    protection = protection_module()
    if protection is not None and hasattr(protection, "exit_position"):
        result = protection.exit_position(position=position, reason=reason, gateway=gateway)
        outcome.actions.append({"kind": "exit_delegated", "reason": reason, "result": str(result)})
        return
    cancelled = cancel_resting(position=position, gateway=gateway, reason=reason)
    if cancelled:
        outcome.actions.append({"kind": "cancelled_protection", "orders": cancelled})
    position.refresh_from_db()
    if position.status != Position.Status.OPEN or position.quantity <= 0:
        return
    outcome.placed.append(
        place_market(
            config=config,
            symbol=position.symbol,
            trigger=trigger,
            intent="exit",
            side="SELL",
            quantity=position.quantity,
            rules=rules,
            reference_price=price,
            gateway=gateway,
            position=position,
        )
    )


def manage_position(
    *,
    position: Position,
    config,
    exit_config: ExitConfig,
    trigger: str,
    price: Decimal,
    high: Decimal | None,
    atr: Decimal | None,
    now_ms: int,
    rules,
    gateway,
    sell_signal: bool,
) -> ExitOutcome:
    """One cycle of exit management; `sell_signal` is the strategy's EXIT."""
    outcome = ExitOutcome()
    plan = evaluate_position(
        exit_state(position), price=price, now_ms=now_ms, config=exit_config, high=high, atr=atr
    )
    outcome.actions.extend(_action_record(a) for a in plan.actions)
    exit_all = next((a for a in plan.actions if a.kind is ExitKind.EXIT_ALL), None)
    if exit_all is None:
        save_exit_state(position=position, state=plan.state, reason="exit management")
    if exit_all is not None or sell_signal:
        reason = exit_all.reason if exit_all is not None else "strategy exit signal"
        if exit_all is None:
            outcome.actions.append({"kind": "signal_exit", "reason": reason})
        exit_at_market(
            position=position,
            config=config,
            trigger=trigger,
            reason=reason,
            rules=rules,
            price=price,
            gateway=gateway,
            outcome=outcome,
        )
    elif protection_module() is None:
        # Nobody keeps take-profit legs on the exchange yet: take the tranches here.
        for n, action in enumerate(a for a in plan.actions if a.kind is ExitKind.SELL):
            outcome.placed.append(
                place_market(
                    config=config,
                    symbol=position.symbol,
                    trigger=trigger,
                    intent="take_profit",
                    side="SELL",
                    quantity=action.quantity,
                    rules=rules,
                    reference_price=price,
                    gateway=gateway,
                    position=position,
                    n=n,
                )
            )
    position.refresh_from_db()
    outcome.closed = position.status != Position.Status.OPEN
    return outcome
