"""One signal group on one closed candle: the signal once, then every subscribed
(account, config) in batches whose exchange calls run concurrently. The gateway's
shared limiter bounds the request weight, whatever the number of threads."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection

from apps.core.redis import get_redis
from apps.marketdata.intervals import INTERVAL_MS
from apps.strategies.models import StrategyConfig

from .. import conf
from .account_cycle import Result, Trigger, run_account
from .signal import group_signal, symbol_row


@dataclass
class GroupReport:
    trigger: str
    signal: str
    counts: Counter = field(default_factory=Counter)
    retry: list[int] = field(default_factory=list)  # config ids to try again

    def as_dict(self) -> dict:
        return {
            "trigger": self.trigger,
            "signal": self.signal,
            "counts": dict(self.counts),
            "retry": self.retry,
        }


def _close_thread_connections(pool: ThreadPoolExecutor, workers: int) -> None:
    # Each pool thread opened its own database connection; a barrier makes every
    # thread run exactly one of these closers before the pool goes away.
    barrier = threading.Barrier(workers)

    def close():
        barrier.wait(timeout=30)
        connection.close()

    for future in [pool.submit(close) for _ in range(workers)]:
        future.result()


def run_group(
    *,
    environment: str,
    symbol: str,
    interval: str,
    open_time_ms: int,
    config_ids: list[int],
    redis=None,
) -> GroupReport:
    redis = redis or get_redis()
    configs = list(StrategyConfig.objects.filter(pk__in=config_ids).order_by("pk"))
    interval_ms = INTERVAL_MS[interval]
    if not configs:
        return GroupReport(f"{symbol}:{interval}:{open_time_ms}", "none")
    strategy = configs[0].build_strategy()
    group = group_signal(
        strategy,
        environment=environment,
        symbol=symbol,
        interval=interval,
        open_time_ms=open_time_ms,
        interval_ms=interval_ms,
    )
    trigger = Trigger(environment, symbol, interval, open_time_ms, group.close_time_ms)
    row = symbol_row(environment, symbol)
    report = GroupReport(trigger.id, str(group.signal.action))

    def one(config_id: int) -> tuple[int, Result]:
        # Each thread keeps its database connection for the whole group (closed at the
        # end): reconnecting per account cost a PostgreSQL backend start each time.
        # Only after an error is the connection checked (no round trip otherwise).
        if (
            connection.connection is not None
            and connection.errors_occurred
            and not connection.is_usable()
        ):
            connection.close()
        return config_id, run_account(
            config_id=config_id, trigger=trigger, group=group, symbol_row=row, redis=redis
        )

    ids = [c.pk for c in configs]
    workers = min(conf.cycle_concurrency(), len(ids))
    if workers <= 1:
        results = [one(i) for i in ids]
    else:
        results = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cycle") as pool:
            size = conf.cycle_batch_size()
            for start in range(0, len(ids), size):
                results.extend(pool.map(one, ids[start : start + size]))
            _close_thread_connections(pool, workers)
    for config_id, result in results:
        report.counts[str(result)] += 1
        if result in (Result.BUSY, Result.FAILED):
            report.retry.append(config_id)
    return report
