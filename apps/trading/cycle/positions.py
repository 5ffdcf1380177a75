"""Writes of the cycle outside orders: exit-management state on a position, and the
automatic halt of an account whose drawdown breaker tripped."""

from __future__ import annotations

from django.db import transaction

from apps.audit.services import record_event
from apps.risk.engine import PositionState

from ..models import Decision, Order, Position

_EXIT_FIELDS = ("stop_price", "highest_price", "breakeven_done", "ladder_done", "additions")


@transaction.atomic
def save_exit_state(*, position: Position, state: PositionState, reason: str = "") -> bool:
    """Persist what exit management decided (stops only move up: a lower stop than the
    stored one is ignored). Audited when anything changed; returns whether it did."""
    row = Position.objects.select_for_update().get(pk=position.pk)
    if row.status != Position.Status.OPEN:
        return False
    wanted = {name: getattr(state, name) for name in _EXIT_FIELDS}
    if row.stop_price is not None and (wanted["stop_price"] or 0) < row.stop_price:
        wanted["stop_price"] = row.stop_price
    changes = {
        name: {"before": str(getattr(row, name)), "after": str(value)}
        for name, value in wanted.items()
        if getattr(row, name) != value
    }
    if not changes:
        return False
    for name, value in wanted.items():
        setattr(row, name, value)
    row.save(update_fields=[*_EXIT_FIELDS, "updated_at"])
    record_event(
        action="position.exit_state_changed",
        actor=None,
        organization_id=row.account.organization_id,
        target=row,
        changes={**changes, **({"reason": reason[:200]} if reason else {})},
    )
    position.__dict__.update({name: getattr(row, name) for name in _EXIT_FIELDS})
    return True


@transaction.atomic
def set_initial_stop(*, position: Position, stop, reason: str = "entry") -> bool:
    """A new position's first stop (the risk decision's), where exit management and
    protection start from. Never lowers nor replaces a stop already set."""
    row = Position.objects.select_for_update().get(pk=position.pk)
    if row.status != Position.Status.OPEN or row.stop_price is not None or stop is None:
        return False
    row.stop_price = stop
    row.highest_price = row.highest_price or row.average_entry_price
    row.save(update_fields=["stop_price", "highest_price", "updated_at"])
    record_event(
        action="position.exit_state_changed",
        actor=None,
        organization_id=row.account.organization_id,
        target=row,
        changes={"stop_price": {"before": "None", "after": str(stop)}, "reason": reason},
    )
    position.__dict__.update(stop_price=row.stop_price, highest_price=row.highest_price)
    return True


def link_orders(*, decision: Decision, order_ids: list[int]) -> None:
    """Point the orders a decision placed at it (written after them, since a decision
    records the orders). Only orders without a decision are linked."""
    if order_ids:
        Order.objects.filter(pk__in=order_ids, decision__isnull=True).update(decision=decision)


# Risk rules whose failure halts the account (the risk profile's limits), not only
# rejects the entry: only a risk officer resumes it.
HALTING_RULES = frozenset({"daily_loss", "trades_per_day"})


def halt_if_limits_tripped(*, account, risk) -> bool:
    """The drawdown breaker (in halt mode), the daily loss limit or the trade-count
    limit tripped: halt the account with an alert (apps.trading.controls)."""
    from apps.trading.controls import halt_account

    tripped = [v for v in risk.verdicts if not v.passed and v.rule in HALTING_RULES]
    if not risk.halt and not tripped:
        return False
    reasons = risk.reasons if risk.halt else [f"{v.rule}: {v.reason}" for v in tripped]
    source = "drawdown_breaker" if risk.halt else tripped[0].rule
    return halt_account(account=account, reason="; ".join(reasons), source=source)
