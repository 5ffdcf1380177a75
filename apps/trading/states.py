"""The order state machine: which status may follow which.

`pending`: written before sending (so a crash leaves a trace to resolve);
`unknown`: the send's outcome is uncertain until queried by client id. The rest are
Binance's statuses (EXPIRED_IN_MATCH maps to expired). Terminal states stay terminal:
a late stream event can never reopen a filled or canceled order.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ConflictError


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending (not acknowledged)")
    UNKNOWN = "unknown", _("Unknown outcome")
    NEW = "new", _("New")
    PARTIALLY_FILLED = "partially_filled", _("Partially filled")
    PENDING_CANCEL = "pending_cancel", _("Cancel requested")
    FILLED = "filled", _("Filled")
    CANCELED = "canceled", _("Canceled")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")


S = OrderStatus
TERMINAL = frozenset({S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED})
_LIVE_AFTER_SEND = {S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.UNKNOWN, S.REJECTED, *_LIVE_AFTER_SEND}),
    S.UNKNOWN: frozenset({S.REJECTED, *_LIVE_AFTER_SEND}),
    S.NEW: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED, S.EXPIRED}
    ),
    S.PENDING_CANCEL: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    **{state: frozenset() for state in TERMINAL},
}

# Binance's order status names -> ours.
FROM_EXCHANGE = {
    "NEW": S.NEW,
    "PENDING_NEW": S.NEW,
    "PARTIALLY_FILLED": S.PARTIALLY_FILLED,
    "FILLED": S.FILLED,
    "CANCELED": S.CANCELED,
    "PENDING_CANCEL": S.PENDING_CANCEL,
    "REJECTED": S.REJECTED,
    "EXPIRED": S.EXPIRED,
    "EXPIRED_IN_MATCH": S.EXPIRED,
}


class IllegalTransition(ConflictError):
    code = "illegal_order_transition"


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS[current]


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS:
        raise IllegalTransition(f"unknown order status {new!r}")
    if not can_transition(current, new):
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (terminal)"
        raise IllegalTransition(
            f"an order cannot go from {current} to {new} (allowed: {allowed})",
            current=current,
            new=new,
        )


def from_exchange(status: str) -> str:
    try:
        return FROM_EXCHANGE[status]
    except KeyError:
        raise IllegalTransition(f"unknown exchange order status {status!r}") from None
