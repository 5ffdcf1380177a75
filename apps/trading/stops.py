"""A position's first stop when the cycle could not set it: its entry was booked later
by the user-data stream or by reconciliation (an unknown outcome, a worker killed
mid-placement). Protection calls this, so no open position waits for a stop.

The stop is the one the risk engine approved for the entry (its decision's verdict);
failing that (an entry whose decision is unknown), `TRADING_FALLBACK_STOP_FRACTION`
below the average entry price.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from .models import Decision, Fill, Position


def fallback_stop_fraction() -> Decimal:
    return Decimal(str(getattr(settings, "TRADING_FALLBACK_STOP_FRACTION", "0.02")))


def approved_entry_stop(position: Position) -> Decimal | None:
    """The stop of the risk decision behind the position's first buy, if recorded."""
    first = (
        Fill.objects.filter(position=position, side="BUY")
        .select_related("order")
        .order_by("executed_at", "exchange_trade_id")
        .first()
    )
    if first is None or first.order.decision_id is None:
        return None
    verdict = (
        Decision.objects.filter(pk=first.order.decision_id)
        .values_list("risk_verdict", flat=True)
        .first()
    )
    stop = (verdict or {}).get("stop")
    return Decimal(str(stop)) if stop not in (None, "") else None


def ensure_stop(position: Position) -> Position:
    """Give an open position without a stop its first one (audited); else unchanged."""
    if position.status != Position.Status.OPEN or position.stop_price is not None:
        return position
    from .cycle.positions import set_initial_stop

    stop = approved_entry_stop(position)
    reason = "the entry's approved stop"
    if stop is None or stop >= position.average_entry_price:
        stop = position.average_entry_price * (1 - fallback_stop_fraction())
        reason = "fallback: no approved stop known for the entry"
    set_initial_stop(position=position, stop=stop, reason=reason)
    return position
