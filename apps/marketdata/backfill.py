"""Backfill closed candles from the exchange's REST klines, page by page, idempotently."""

from __future__ import annotations

import time
from collections.abc import Callable

from apps.exchange.streams.kline_gaps import INTERVAL_MS, REST_KLINES_LIMIT

from .klines import parse_kline
from .services import ensure_symbol, upsert_candles

Progress = Callable[[int, int, int], None]  # (done ms, total ms, rows)


def backfill_klines(
    gateway,
    *,
    environment: str,
    symbol: str,
    interval: str,
    start_ms: int,
    end_ms: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Store every kline that closed in [start_ms, end_ms]; returns rows written.

    Only closed klines are stored (the open one would be overwritten by the stream
    anyway, and a backtest must never see an unfinished bar).
    """
    step = INTERVAL_MS[interval]
    end_ms = end_ms or int(time.time() * 1000)
    last_closed_open = (end_ms // step) * step - step
    stored = ensure_symbol(environment=environment, name=symbol)
    cursor, written = (start_ms // step) * step, 0
    while cursor <= last_closed_open:
        page = gateway.klines(
            stored.name, interval, startTime=cursor, endTime=last_closed_open,
            limit=REST_KLINES_LIMIT,
        )  # fmt: skip
        rows = [parse_kline(row) for row in page if int(row[0]) <= last_closed_open]
        if not rows:
            break
        written += upsert_candles(symbol=stored, interval=interval, rows=rows)
        cursor = int(page[-1][0]) + step
        if progress is not None:
            progress(min(cursor, last_closed_open) - start_ms, last_closed_open - start_ms, written)
    return written
