"""Seed items 36-45: each optimisation Spotdesk keeps, against its unoptimised form.

Run: .venv/bin/python bench/optimisations.py [--only 36,37,...] [--repeat R]

One section per seed item that Spotdesk implements (36-45, and the caching and pooling
items 32-33 they build on); each times (or weighs) the form the product uses and the
plain form it replaces, on the same data in this process, checks that both give the
same answer, and reports the gain through bench/report.py. Items measured elsewhere or
not implemented are listed in docs/performance.md's optimisation table (39:
bench/indicators.py, 43: bench/explain_indexes.py). Item 32 reads the candles that
bench/explain_indexes.py seeds into its database (run that once first).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from report import LOWER_IS_BETTER, ratio  # noqa: E402

from apps.backtest.engine import (  # noqa: E402
    BacktestSettings,
    MarketRules,
    SmaCross,
    load_klines,
    load_npy,
    run_backtest,
    run_sweep,
    save_npy,
    synthetic_candles,
)
from apps.strategies.engine.candles import CANDLE_DTYPE, Candle  # noqa: E402
from apps.strategies.engine.indicators import batch  # noqa: E402

REAL_KLINES = ROOT.parent / "shared" / "data" / "market" / "ETHBTC-5m-2018-01.csv.gz"


def best_of(func, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def heading(item: int, title: str) -> None:
    print(f"\n== seed item {item}: {title}")


# --- 36: compiled code ------------------------------------------------------------------


def python_ema(close: list[float], period: int) -> list[float]:
    """The unoptimised form: the EMA in a Python loop, seeded like TA-Lib (SMA first)."""
    out = [float("nan")] * len(close)
    alpha = 2.0 / (period + 1)
    value = sum(close[:period]) / period
    out[period - 1] = value
    for i in range(period, len(close)):
        value = alpha * close[i] + (1.0 - alpha) * value
        out[i] = value
    return out


def item_36(repeat: int) -> None:
    heading(36, "compiled code (TA-Lib's C and numpy instead of Python loops)")
    close = synthetic_candles(200_000, seed=36)["close"].astype(float)
    as_list = close.tolist()
    ours = best_of(lambda: batch.ema(close, 50), repeat)
    loop = best_of(lambda: python_ema(as_list, 50), repeat)
    same = np.allclose(batch.ema(close, 50), python_ema(as_list, 50), equal_nan=True)
    print(
        f"  EMA(50) over {len(close):,} closes: batch.ema {ours * 1e3:8.2f} ms, "
        f"Python loop {loop * 1e3:8.2f} ms, same values: {same}"
    )
    if not same:
        raise SystemExit("item 36: the two EMA forms disagree")
    ratio("optimisations.36_compiled_ema_vs_python_loop", loop / ours)


# --- 37: memory-mapped arrays -----------------------------------------------------------


def item_37(repeat: int, workdir: Path) -> None:
    heading(37, "memory-mapped candle arrays (load_npy) against loading the file")
    candles = synthetic_candles(2_000_000, seed=37)
    path = save_npy(candles, workdir / "history.npy")
    window = 500

    def mapped():
        return np.array(load_npy(path)[-window:])  # the newest window, as a backtest starts

    def loaded():
        return np.load(path, allow_pickle=False)[-window:].copy()

    same = np.array_equal(mapped(), loaded())
    t_map = best_of(mapped, repeat)
    t_load = best_of(loaded, repeat)
    tracemalloc.start()
    kept = load_npy(path)[-window:]
    map_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    tracemalloc.start()
    full = np.load(path, allow_pickle=False)[-window:]
    load_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del kept, full
    size = path.stat().st_size
    print(
        f"  {len(candles):,} candles ({size / 1e6:.0f} MB), newest {window}: "
        f"mapped {t_map * 1e3:8.3f} ms (peak {map_peak / 1e6:.2f} MB), "
        f"loaded {t_load * 1e3:8.2f} ms (peak {load_peak / 1e6:.1f} MB), same: {same}"
    )
    if not same:
        raise SystemExit("item 37: the mapped and loaded windows differ")
    ratio("optimisations.37_mmap_window_vs_full_load", t_load / t_map)
    ratio("optimisations.37_mmap_peak_memory_vs_full_load", load_peak / max(map_peak, 1))


# --- 38 and 40: parallel sweeps, indicators computed once --------------------------------


def _sweep_inputs():
    candles = synthetic_candles(100_000, seed=38)
    settings = BacktestSettings(
        symbol="SYN", interval="1m", initial_cash=Decimal(1_000_000), market=MarketRules()
    )
    pairs = [(fast, slow) for fast in (5, 8, 10, 12, 15) for slow in (30, 40, 50, 60, 80, 100)]
    strategies = [SmaCross({"fast": f, "slow": s}) for f, s in pairs]
    return candles, settings, strategies


def _summary(results) -> list[tuple]:
    return [(r.final_equity, len(r.trades)) for r in results]


def item_38(repeat: int) -> None:
    heading(38, "parallel parameter sweeps (run_sweep with worker processes)")
    candles, settings, strategies = _sweep_inputs()
    one = best_of(lambda: run_sweep(strategies, candles, settings, processes=1), repeat)
    two = best_of(lambda: run_sweep(strategies, candles, settings, processes=2), repeat)
    same = _summary(run_sweep(strategies, candles, settings, processes=2)) == _summary(
        run_sweep(strategies, candles, settings, processes=1)
    )
    print(
        f"  {len(strategies)} SMA pairs x {len(candles):,} bars: 1 process {one:6.2f} s, "
        f"2 processes {two:6.2f} s, same results: {same}"
    )
    if not same:
        raise SystemExit("item 38: parallel and serial sweeps disagree")
    ratio("optimisations.38_sweep_2_processes_vs_1", one / two)


def item_40(repeat: int) -> None:
    heading(40, "precomputed indicators shared by a sweep (IndicatorCache) vs one run each")
    candles, settings, strategies = _sweep_inputs()
    shared = best_of(lambda: run_sweep(strategies, candles, settings, processes=1), repeat)
    separate = best_of(lambda: [run_backtest(s, candles, settings) for s in strategies], repeat)
    same = _summary(run_sweep(strategies, candles, settings, processes=1)) == _summary(
        [run_backtest(s, candles, settings) for s in strategies]
    )
    print(
        f"  {len(strategies)} SMA pairs x {len(candles):,} bars: sweep {shared:6.2f} s, "
        f"separate runs {separate:6.2f} s, same results: {same}"
    )
    if not same:
        raise SystemExit("item 40: the sweep and the separate runs disagree")
    ratio("optimisations.40_shared_indicators_vs_separate_runs", separate / shared)


# --- 41: lightweight data structures ------------------------------------------------------


def _weigh(build) -> int:
    gc.collect()
    tracemalloc.start()
    rows = build()
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del rows
    return size


def item_41(repeat: int) -> None:
    heading(41, "slotted dataclasses (the live Candle) against a plain dataclass and a dict")
    fields = [(f.name, f.type) for f in dataclasses.fields(Candle)]
    plain = dataclasses.make_dataclass("PlainCandle", fields, frozen=True)
    names = [name for name, _ in fields]
    n = 200_000
    values = [(i, 1.0 + i, 2.0 + i, 0.5 + i, 1.5 + i, 10.0 + i, i + 59_999) for i in range(n)]
    slotted = _weigh(lambda: [Candle(*v) for v in values])
    unslotted = _weigh(lambda: [plain(*v) for v in values])
    as_dicts = _weigh(lambda: [dict(zip(names, v, strict=True)) for v in values])
    build = best_of(lambda: [Candle(*v) for v in values], repeat)
    build_plain = best_of(lambda: [plain(*v) for v in values], repeat)
    print(
        f"  {n:,} candles: slotted {slotted / n:6.1f} B each, plain dataclass "
        f"{unslotted / n:6.1f} B, dict {as_dicts / n:6.1f} B; build {build * 1e3:.0f} ms "
        f"vs {build_plain * 1e3:.0f} ms"
    )
    ratio("optimisations.41_slots_memory_vs_plain_dataclass", unslotted / slotted)
    ratio("optimisations.41_slots_memory_vs_dict", as_dicts / slotted)
    ratio("optimisations.41_slots_build_time_vs_plain", build / build_plain, better=LOWER_IS_BETTER)


# --- 42: binary serialization -----------------------------------------------------------


def item_42(repeat: int, workdir: Path) -> None:
    heading(42, "binary candle caches (.npy) against parsing the kline CSV")
    candles = load_klines(REAL_KLINES)
    csv_path = workdir / "klines.csv"
    rows = [
        [
            int(c["open_time"]),
            repr(float(c["open"])),
            repr(float(c["high"])),
            repr(float(c["low"])),
            repr(float(c["close"])),
            repr(float(c["volume"])),
            int(c["close_time"]),
            "0",
            "0",
            "0",
            "0",
            "0",
        ]
        for c in candles
    ]
    csv_path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    npy_path = save_npy(candles, workdir / "klines.npy")
    parsed = best_of(lambda: load_klines(csv_path), repeat)
    binary = best_of(lambda: np.array(load_npy(npy_path)), repeat)
    same = np.array_equal(load_klines(csv_path), np.array(load_npy(npy_path)))
    print(
        f"  {REAL_KLINES.name}: {len(candles):,} candles; CSV parse {parsed * 1e3:8.2f} ms, "
        f".npy {binary * 1e3:8.3f} ms, same: {same}"
    )
    if not same or candles.dtype != CANDLE_DTYPE:
        raise SystemExit("item 42: the CSV and the .npy give different candles")
    ratio("optimisations.42_npy_vs_csv_parse", parsed / binary)


# --- 32: the Redis candle window in front of the database ------------------------------

EXPLAIN_DB = "spotdesk_bench_explain"  # seeded by bench/explain_indexes.py


def _django_on_explain_database() -> None:
    import os

    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [EXPLAIN_DB])
        if found.fetchone() is None:
            raise SystemExit(f"item 32 reads {EXPLAIN_DB}: run bench/explain_indexes.py once first")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{EXPLAIN_DB}",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
    )
    import django

    django.setup()


def _values(klines: list[list]) -> list[list[Decimal]]:
    return [[Decimal(str(field)) for field in row] for row in klines]


def item_32(repeat: int) -> None:
    heading(32, "the Redis candle window (MarketCache) in front of the candle table")
    _django_on_explain_database()
    from apps.core.redis import get_redis
    from apps.marketdata.cache import MarketCache
    from apps.marketdata.conf import cache_window
    from apps.marketdata.models import Candle
    from apps.marketdata.times import datetime_to_ms
    from apps.trading.cycle.signal import load_klines

    newest = Candle.objects.select_related("symbol").order_by("-open_time").first()
    if newest is None:
        raise SystemExit(f"item 32 reads {EXPLAIN_DB}: run bench/explain_indexes.py once first")
    symbol, environment, interval = newest.symbol.name, newest.symbol.environment, "1h"
    count = cache_window()
    rows = Candle.objects.filter(symbol=newest.symbol, interval=interval)
    rows = list(rows.order_by("-open_time")[:count])
    cache = MarketCache(get_redis(), environment)
    open_ms = datetime_to_ms(newest.open_time)

    def read():
        return load_klines(
            environment=environment,
            symbol=symbol,
            interval=interval,
            open_time_ms=open_ms,
            count=count,
        )

    try:
        cache.forget(symbol, interval)
        from_db, db_source = read()
        t_db = best_of(read, repeat)
        cache.add_candles(symbol, interval, [row.as_kline_row() for row in rows])
        cached, cache_source = read()
        t_cache = best_of(read, repeat)
    finally:
        cache.forget(symbol, interval)
    # The cache keeps the strings it was given, the database its own scale: compare values.
    same = _values(from_db) == _values(cached) and (db_source, cache_source) == (
        "database",
        "cache",
    )
    print(
        f"  newest {count} candles of {symbol} {interval} ({Candle.objects.count():,} in the "
        f"table): Redis {t_cache * 1e3:7.2f} ms, database {t_db * 1e3:7.2f} ms, same: {same}"
    )
    if not same:
        raise SystemExit("item 32: the cached and stored windows differ")
    ratio("optimisations.32_redis_window_vs_database", t_db / t_cache)


# --- 33 (the pooling the optimisation items lean on): database connections ---------------

DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def item_33(repeat: int) -> None:
    heading(33, "pooled database connections (production's psycopg pool) vs one per request")
    import psycopg
    from psycopg_pool import ConnectionPool

    requests = 200

    def fresh():
        for _ in range(requests):
            with psycopg.connect(DSN) as connection:
                connection.execute("SELECT 1").fetchone()

    # As config/settings/production.py configures it: min 2, with the health check
    # Django passes when CONN_HEALTH_CHECKS is on.
    with ConnectionPool(
        DSN, min_size=2, max_size=10, check=ConnectionPool.check_connection, open=True
    ) as pool:
        pool.wait()

        def pooled():
            for _ in range(requests):
                with pool.connection() as connection:
                    connection.execute("SELECT 1").fetchone()

        t_pool = best_of(pooled, repeat)
    t_fresh = best_of(fresh, repeat)
    print(
        f"  {requests} requests of one query: pooled {t_pool / requests * 1e3:6.3f} ms each, "
        f"new connection {t_fresh / requests * 1e3:6.3f} ms each"
    )
    ratio("optimisations.33_pooled_connection_vs_new", t_fresh / t_pool)


# --- 44: garbage collector settings -------------------------------------------------------


def _load_worker_modules() -> int:
    """What a worker holds after start-up: Django and every app's modules."""
    import importlib
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    for name in ("celery_worker.app", "apps.trading.cycle.tasks", "apps.backtest.tasks",
                 "apps.trading.protection", "apps.api.urls", "apps.dashboard.views"):  # fmt: skip
        importlib.import_module(name)
    return len(gc.get_objects())


def item_44(repeat: int) -> None:
    heading(44, "gc.freeze() after a worker's start-up vs the collector's defaults")
    from apps.backtest.engine import FillModel
    from apps.risk.engine import RiskConfig
    from apps.strategies.engine import registry

    tracked = _load_worker_modules()
    candles = synthetic_candles(20_000, seed=44)
    settings = BacktestSettings(
        symbol="SYN",
        interval="1m",
        initial_cash=Decimal(10_000),
        fill=FillModel(mode="intrabar", slippage=Decimal("0.0005")),
        market=MarketRules(step_size=Decimal("0.0001"), min_notional=Decimal(5)),
        risk=RiskConfig(max_trades_per_day=None),
    )
    strategy = registry.create("trend_following", {})

    def task():  # an allocation-heavy task: the risk engine and exits in Decimal
        return run_backtest(strategy, candles, settings)

    # The collector's own time, from its start/stop callbacks: what freezing saves,
    # without the rest of the task's noise on a shared machine.
    paused = {"since": 0.0, "total": 0.0}

    def on_gc(phase, info):
        if phase == "start":
            paused["since"] = time.perf_counter()
        else:
            paused["total"] += time.perf_counter() - paused["since"]

    def gc_seconds() -> float:
        paused["total"] = 0.0
        task()
        return paused["total"]

    # Alternate the two settings in this process so that load hits both alike.
    default, frozen, default_gc, frozen_gc = (float("inf"),) * 4
    gc.callbacks.append(on_gc)
    try:
        for _ in range(max(repeat, 3)):
            gc.unfreeze()
            gc.collect()
            default = min(default, best_of(task, 1))
            default_gc = min(default_gc, gc_seconds())
            gc.freeze()
            frozen = min(frozen, best_of(task, 1))
            frozen_gc = min(frozen_gc, gc_seconds())
    finally:
        gc.callbacks.remove(on_gc)
        gc.unfreeze()
    same = task().final_equity == task().final_equity
    print(
        f"  {tracked:,} objects tracked after start-up; a 20,000-bar backtest with the risk "
        f"engine: default {default * 1e3:7.1f} ms ({default_gc * 1e3:.1f} ms collecting), "
        f"frozen {frozen * 1e3:7.1f} ms ({frozen_gc * 1e3:.1f} ms collecting), "
        f"same results: {same}"
    )
    ratio("optimisations.44_gc_time_default_vs_frozen", default_gc / max(frozen_gc, 1e-6))


ITEMS = {
    32: item_32,
    33: item_33,
    36: item_36,
    37: item_37,
    38: item_38,
    40: item_40,
    41: item_41,
    42: item_42,
    44: item_44,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(map(str, ITEMS)), help="items, e.g. 36,42")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    wanted = [int(item) for item in options.only.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-optimisations-") as tmp:
        for item in wanted:
            if item in (37, 42):
                ITEMS[item](options.repeat, Path(tmp))
            else:
                ITEMS[item](options.repeat)


if __name__ == "__main__":
    main()
