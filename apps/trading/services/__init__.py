"""Writes of the trading core: keyword-only, atomic, idempotent by unique keys."""

from .decisions import record_decision
from .fills import FillInput, apply_fill
from .flows import record_cash_flow, record_equity_snapshot
from .orders import (
    apply_exchange_status,
    client_order_id,
    create_order,
    flag_for_review,
    transition_order,
)

__all__ = [
    "FillInput",
    "apply_exchange_status",
    "apply_fill",
    "client_order_id",
    "create_order",
    "flag_for_review",
    "record_cash_flow",
    "record_decision",
    "record_equity_snapshot",
    "transition_order",
]
