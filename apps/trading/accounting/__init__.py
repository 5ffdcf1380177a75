"""Pure position accounting: no Django, no I/O, Decimal throughout.

Fills become positions (quantity, average entry, realized PnL with commissions in any
asset), positions are attributed by fills per (account, strategy config, symbol),
the rest of a balance is the unmanaged reserve, and external cash flows are kept out
of PnL, daily loss and drawdown.
"""

from .book import AccountingError, FillEvent, OversellError, PositionBook, apply_fill
from .flows import Flow, daily_pnl, drawdown, trading_day, unit_values
from .ledger import Ledger, attribute, replay
from .reserve import max_sell, unmanaged_reserve

__all__ = [
    "AccountingError",
    "FillEvent",
    "Flow",
    "Ledger",
    "OversellError",
    "PositionBook",
    "apply_fill",
    "attribute",
    "daily_pnl",
    "drawdown",
    "max_sell",
    "replay",
    "trading_day",
    "unit_values",
    "unmanaged_reserve",
]
