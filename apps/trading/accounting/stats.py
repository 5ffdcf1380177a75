"""An account's own results for the risk engine (Kelly sizing, loss cooldown, trades
per day), from its closed round trips."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from apps.risk.engine.state import TradeStats

ZERO = Decimal(0)


class ClosedResult(NamedTuple):
    closed_ms: int
    pnl: Decimal  # valuation currency


def trade_stats(results: Sequence[ClosedResult], *, entries_today: int = 0) -> TradeStats:
    """Wins, average win and loss, the current losing streak and when it last lost.
    A break-even trade (pnl 0) is neither a win nor a loss and ends a streak."""
    ordered = sorted(results)
    wins = [r.pnl for r in ordered if r.pnl > 0]
    losses = [-r.pnl for r in ordered if r.pnl < 0]
    streak = 0
    for result in reversed(ordered):
        if result.pnl >= 0:
            break
        streak += 1
    last_loss = next((r.closed_ms for r in reversed(ordered) if r.pnl < 0), None)
    return TradeStats(
        trades=len(ordered),
        wins=len(wins),
        average_win=sum(wins, ZERO) / len(wins) if wins else ZERO,
        average_loss=sum(losses, ZERO) / len(losses) if losses else ZERO,
        consecutive_losses=streak,
        last_loss_at_ms=last_loss,
        trades_today=entries_today,
    )
