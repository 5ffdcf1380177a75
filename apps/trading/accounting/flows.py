"""External cash flows kept out of performance: the UTC trading day, daily PnL and a
drawdown measured on unit values (deposits buy units, withdrawals sell them), so that
neither a deposit nor a withdrawal looks like a gain or a loss."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import NamedTuple

ZERO = Decimal(0)
ONE = Decimal(1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Flow(NamedTuple):
    time_ms: int
    value: Decimal  # valuation currency, positive in, negative out


def trading_day(time_ms: int) -> date:
    """The UTC day of an exchange time: daily limits reset at 00:00 UTC."""
    return (_EPOCH + timedelta(milliseconds=time_ms)).date()


def day_start_ms(day: date) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return (start - _EPOCH) // timedelta(milliseconds=1)


def daily_pnl(
    *, day_start_equity: Decimal, equity: Decimal, flows: Iterable[Flow], now_ms: int
) -> Decimal:
    """Today's trading result: equity change minus today's net external flows."""
    start = day_start_ms(trading_day(now_ms))
    today = sum((f.value for f in flows if start <= f.time_ms <= now_ms), ZERO)
    return equity - day_start_equity - today


def unit_values(points: Iterable[tuple[int, Decimal]], flows: Iterable[Flow]) -> list[Decimal]:
    """Value of one unit at each equity observation (time_ms, equity), starting at 1.

    Flows between two observations are taken out of the later one before its return
    is computed, as if they arrived just before it (they earned nothing yet).
    """
    points = sorted(points)
    pending = sorted(flows)
    values: list[Decimal] = []
    unit = ONE
    previous: Decimal | None = None
    index = 0
    with localcontext() as ctx:
        ctx.prec = 40
        for time_ms, equity in points:
            moved = ZERO
            while index < len(pending) and pending[index].time_ms <= time_ms:
                if previous is not None:
                    moved += pending[index].value
                index += 1
            if previous is not None and previous > 0:
                unit = unit * (equity - moved) / previous
            previous = equity
            values.append(unit)
    return values


def drawdown(
    points: Iterable[tuple[int, Decimal]], flows: Iterable[Flow]
) -> tuple[Decimal, Decimal]:
    """(current, maximum) drawdown as shares of the peak unit value."""
    peak = ZERO
    current = worst = ZERO
    for unit in unit_values(points, flows):
        peak = max(peak, unit)
        current = (peak - unit) / peak if peak > 0 else ZERO
        worst = max(worst, current)
    return current, worst
