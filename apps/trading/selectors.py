"""Reads the cycle needs, in the shapes the pure engines take."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from apps.marketdata.times import datetime_to_ms
from apps.risk.engine.exits import PositionState
from apps.risk.engine.state import OpenPosition, TradeStats

from .accounting.stats import ClosedResult, trade_stats
from .models import Position, Trade

ONE = Decimal(1)
STATS_WINDOW = 500  # recent round trips Kelly and the cooldown look at


def exit_state(position: Position) -> PositionState:
    """What exit management remembers about a position, from its row."""
    return PositionState(
        entry_price=position.average_entry_price,
        quantity=position.quantity,
        original_quantity=position.original_quantity or position.quantity,
        opened_at_ms=datetime_to_ms(position.opened_at),
        stop_price=position.stop_price,
        highest_price=position.highest_price or position.average_entry_price,
        breakeven_done=position.breakeven_done,
        ladder_done=position.ladder_done,
        additions=position.additions,
    )


def open_positions(
    *,
    account_id: int,
    marks: Mapping[str, Decimal],
    quote_rates: Mapping[str, Decimal] | None = None,
    sectors: Mapping[str, frozenset[str]] | None = None,
) -> tuple[OpenPosition, ...]:
    """The account's open positions for the risk engine, marked at `marks` (symbol ->
    price); `quote_rates` maps a quote asset to the valuation currency (1 if absent)."""
    rates = quote_rates or {}
    tags = sectors or {}
    rows = Position.objects.filter(account_id=account_id, status=Position.Status.OPEN)
    return tuple(
        OpenPosition(
            symbol=p.symbol,
            quantity=p.quantity,
            entry_price=p.average_entry_price,
            mark_price=marks.get(p.symbol, p.average_entry_price),
            stop_price=p.stop_price,
            sectors=tags.get(p.symbol, frozenset()),
            quote_rate=rates.get(p.quote_asset, ONE),
        )
        for p in rows.order_by("opened_at", "pk")
    )


def account_trade_stats(*, account_id: int, now: datetime) -> TradeStats:
    """Recent round trips, and the entries opened since 00:00 UTC today."""
    recent = Trade.objects.filter(account_id=account_id).order_by("-closed_at")[:STATS_WINDOW]
    results = [
        ClosedResult(datetime_to_ms(t.closed_at), t.realized_pnl_value)
        for t in recent.only("closed_at", "realized_pnl_value")
    ]
    day_start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    entries = Position.objects.filter(account_id=account_id, opened_at__gte=day_start).count()
    return trade_stats(results, entries_today=entries)
