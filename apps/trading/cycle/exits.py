"""Exit management of one open position in a cycle: the pure engine decides, the new
state is persisted on the position, and an exit at market is handed to protection.

Protective orders on the exchange (an OCO per take-profit tranche, stop moves) and
exits at market belong to `apps.trading.protection`; the cycle never sells on its own,
so there is one way out of a position."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from apps.risk.engine import ExitConfig, evaluate_position
from apps.risk.engine.exits import ExitAction, ExitKind

from .. import protection
from ..models import Position
from ..selectors import exit_state
from .market_orders import Placed
from .positions import save_exit_state


@dataclass
class ExitOutcome:
    actions: list[dict] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)
    closed: bool = False
    # A pyramid addition the exit engine asks for; the risk engine still decides it.
    addition: ExitAction | None = None


def _action_record(action) -> dict:
    return {
        "kind": str(action.kind),
        "quantity": str(action.quantity),
        "reason": action.reason,
        "price": None if action.price is None else str(action.price),
    }


def exit_at_market(
    *, position: Position, trigger: str, reason: str, gateway, outcome: ExitOutcome
) -> None:
    result = protection.exit_position(
        position=position, reason=reason, gateway=gateway, trigger=trigger
    )
    outcome.actions.append({"kind": "exit_delegated", "reason": reason, "result": str(result)})
    if result is not None:  # None: nothing left to sell (closed, or dust)
        outcome.placed.append(Placed("exit", result.client_order_id, result))


def manage_position(
    *,
    position: Position,
    exit_config: ExitConfig,
    trigger: str,
    price: Decimal,
    high: Decimal | None,
    atr: Decimal | None,
    now_ms: int,
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
            position=position, trigger=trigger, reason=reason, gateway=gateway, outcome=outcome
        )
    else:
        outcome.addition = next((a for a in plan.actions if a.kind is ExitKind.ADD), None)
    position.refresh_from_db()
    outcome.closed = position.status != Position.Status.OPEN
    return outcome
