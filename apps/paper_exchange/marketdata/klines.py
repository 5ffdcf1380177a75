"""Klines of any interval from a series: coarser ones aggregate bars, finer ones the tape."""

from __future__ import annotations

from decimal import Decimal

from apps.paper_exchange.marketdata.bars import (
    Bar,
    bucket_before,
    bucket_close,
    bucket_open,
)
from apps.paper_exchange.marketdata.series import Series, bar_from_points


def klines(
    series: Series,
    interval: str,
    now: int,
    start: int | None = None,
    end: int | None = None,
    limit: int = 500,
) -> list[list]:
    """Rows as the REST API returns them, oldest first, nothing after ``now``."""
    if now < series.origin:
        return []
    newest = min(now, end) if end is not None else now
    if start is not None:
        first = bucket_open(interval, start)
        if first < start:
            first = bucket_close(interval, first)
        first = max(first, bucket_open(interval, series.origin))
        opens = []
        current = first
        while current <= newest and len(opens) < limit:
            opens.append(current)
            current = bucket_close(interval, current)
    else:
        opens = []
        current = bucket_open(interval, newest)
        floor = bucket_open(interval, series.origin)
        while current >= floor and len(opens) < limit:
            opens.append(current)
            current = bucket_before(interval, current)
        opens.reverse()
    rows = []
    previous_close: Decimal | None = None
    for open_time in opens:
        close_time = bucket_close(interval, open_time)
        bar = aggregate(series, open_time, close_time, now, previous_close)
        if bar is None:
            continue
        previous_close = bar.close
        rows.append(bar.row(close_time - 1))
    return rows


def aggregate(
    series: Series, open_time: int, close_time: int, now: int, previous_close: Decimal | None
) -> Bar | None:
    """One kline covering ``[open_time, close_time)`` as known at ``now``."""
    upto = min(close_time - 1, now)
    first_index = max(0, series.index_of(open_time))
    last_index = series.index_of(upto)
    if last_index < 0:
        return None
    aligned = (open_time - series.origin) % series.bar_ms == 0 and (
        close_time - series.origin
    ) % series.bar_ms == 0
    if aligned:
        result: Bar | None = None
        for index in range(first_index, last_index + 1):
            part = series.partial_bar(index, now)
            if part is None:
                continue
            if result is None:
                result = Bar(*(getattr(part, name) for name in Bar.__slots__))
                result.open_time = open_time
            else:
                result.merge(part)
        return result
    points = []
    for index in range(first_index, last_index + 1):
        points.extend(point for point in series.points(index) if open_time <= point.time <= upto)
    if previous_close is None:
        before = series.last_point(open_time - 1, max_bars_back=3)
        previous_close = before.price if before is not None else series.bar(first_index).open
    return bar_from_points(open_time, points, previous_close)
