"""Closed candle -> one group task per (strategy, version, params, symbol, interval).

One query, nothing per account: the streams process must keep up with every symbol.
Who is in: enabled configs of active accounts trading the symbol and interval, and any
config of a paused or halted account that still holds a position on that symbol (its
exits and protection keep running; entries are refused by `gates`)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import NamedTuple

from django.db.models import Q

from apps.accounts.models import AccountStatus
from apps.monitoring.metrics import CYCLE_TASKS_ENQUEUED
from apps.strategies.models import StrategyConfig


class GroupKey(NamedTuple):
    strategy: str
    strategy_version: str
    params: str  # canonical JSON of the validated parameters
    symbol: str
    interval: str


def subscribed_groups(*, environment: str, symbol: str, interval: str) -> dict[GroupKey, list[int]]:
    managing = (AccountStatus.ACTIVE, AccountStatus.PAUSED, AccountStatus.HALTED)
    rows = (
        StrategyConfig.objects.filter(account__environment=environment, interval=interval)
        .filter(
            Q(enabled=True, account__status=AccountStatus.ACTIVE)
            | Q(account__status__in=managing, positions__status="open", positions__symbol=symbol)
        )
        .values_list("pk", "strategy", "strategy_version", "params", "symbols")
        .distinct()
        .order_by("pk")
    )
    groups: dict[GroupKey, list[int]] = defaultdict(list)
    for pk, strategy, version, params, symbols in rows:
        # Symbols are filtered here, not in SQL: JSON containment differs between
        # PostgreSQL and the embedded SQLite.
        if symbol not in symbols:
            continue
        key = GroupKey(strategy, version, json.dumps(params, sort_keys=True), symbol, interval)
        if pk not in groups[key]:
            groups[key].append(pk)
    return dict(groups)


def fan_out(
    environment: str, symbol: str, interval: str, open_time_ms: int, *, enqueue=None
) -> int:
    """Enqueue the candle's group tasks (ids and plain values only); returns how many."""
    if enqueue is None:
        from .tasks import run_cycle_group

        def enqueue(*args):
            run_cycle_group.apply_async(args=args)

    groups = subscribed_groups(environment=environment, symbol=symbol, interval=interval)
    for config_ids in groups.values():
        enqueue(environment, symbol, interval, int(open_time_ms), config_ids)
    CYCLE_TASKS_ENQUEUED.inc(len(groups))
    return len(groups)


async def on_closed_candle(environment: str, symbol: str, interval: str, open_time_ms: int) -> None:
    """The `MarketDataShard` hook: the candle is stored; hand it to the workers."""
    from asgiref.sync import sync_to_async

    await sync_to_async(fan_out)(environment, symbol, interval, open_time_ms)
