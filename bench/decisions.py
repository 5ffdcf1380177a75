"""Decision throughput: signal + risk evaluation for one account-symbol.

Run: .venv/bin/python bench/decisions.py [--steps N] [--repeat R]

Each step builds the market context over a 500-candle window (views, as the live ring
buffer gives them), runs a built-in strategy through ``run_strategy`` and then the
risk engine's full rule set for an account holding three positions (Decimal
conversions of price and ATR included). Goal: 20,000 decisions/s on one core.
For scale, the same trend signal computed with pandas on the same window is timed too;
it is the in-run reference of every reported ratio (a decision's speed against it), so
the ratios stay comparable from one machine or load to another.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import talib  # noqa: E402
from report import ratio  # noqa: E402

from apps.risk.engine import (  # noqa: E402
    AccountState,
    Balance,
    OpenPosition,
    RiskConfig,
    TradeProposal,
    TradeStats,
    evaluate_entry,
)
from apps.strategies.engine import MarketContext, registry, run_strategy  # noqa: E402
from apps.strategies.engine.candles import klines_to_array  # noqa: E402
from apps.strategies.engine.signals import price_to_decimal  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "market" / "ETHBTC-5m-2018-01.csv.gz"
WINDOW = 500
GOAL = 20_000
D = Decimal


def load_columns() -> dict[str, np.ndarray]:
    with gzip.open(DATA, "rt") as handle:
        rows = klines_to_array(csv.reader(handle))
    return {name: np.ascontiguousarray(rows[name]) for name in rows.dtype.names}


def account() -> AccountState:
    def pos(symbol, qty, mark, stop, sectors):
        return OpenPosition(symbol, D(qty), D(mark), D(mark), D(stop), frozenset(sectors))

    return AccountState(
        equity=D("2.5"),
        peak_equity=D("2.6"),
        day_start_equity=D("2.52"),
        balances=(Balance("BTC", D("1.6"), D("0.1")), Balance("LTC", D(40), D(0), D("0.0185"))),
        positions=(
            pos("LTCBTC", "10", "0.0185", "0.0180", {"LAYER1"}),
            pos("XMRBTC", "2", "0.028", "0.027", {"LAYER1"}),
            pos("ZECBTC", "1", "0.045", "0.043", {"DEFI"}),
        ),
        stats=TradeStats(trades=12, wins=6, average_win=D("0.01"), average_loss=D("0.005")),
        now_ms=1_516_000_000_000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    cols = load_columns()
    steps = min(args.steps, len(cols["close"]) - WINDOW)
    acc = account()
    config = RiskConfig(max_trades_per_day=None, correlation_action="scale")
    correlations = {"LTCBTC": 0.62, "XMRBTC": 0.41, "ZECBTC": 0.85}
    sectors = frozenset({"LAYER1"})

    def contexts():
        for t in range(WINDOW, WINDOW + steps):
            yield MarketContext(
                "ETHBTC", "5m", cols["open_time"][t - WINDOW : t], cols["open"][t - WINDOW : t],
                cols["high"][t - WINDOW : t], cols["low"][t - WINDOW : t],
                cols["close"][t - WINDOW : t], cols["volume"][t - WINDOW : t],
            )  # fmt: skip

    def decide(strategy):
        for ctx in contexts():
            signal = run_strategy(strategy, ctx)
            close = float(ctx.close[-1])
            atr = float(talib.ATR(ctx.high[-30:], ctx.low[-30:], ctx.close[-30:], 14)[-1])
            entry = price_to_decimal(close)
            stop = signal.stop or price_to_decimal(close - 2 * atr)
            target = signal.target or price_to_decimal(close + 5 * atr)
            evaluate_entry(
                config,
                acc,
                TradeProposal(
                    "ETHBTC", entry, stop, target, price_to_decimal(atr), sectors,
                    quote_asset="BTC", correlations=correlations,
                ),
            )  # fmt: skip

    def best(fn):
        out = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            out = min(out, time.perf_counter() - start)
        return out

    # The in-run reference: the trend signal on the same windows with pandas.
    def pandas_trend():
        for ctx in contexts():
            s = pd.Series(ctx.close[-80:])
            fast = s.ewm(span=12, adjust=False).mean().to_numpy()
            slow = s.ewm(span=26, adjust=False).mean().to_numpy()
            _ = fast[-2] <= slow[-2] and fast[-1] > slow[-1]

    t_pd = best(pandas_trend)

    print(f"One account-symbol, {WINDOW}-candle window, {steps:,} steps, best of {args.repeat}")
    print(f"{'strategy':<18}{'signal/s':>12}{'signal+risk/s':>15}{'us/decision':>13}"
          f"{'vs goal':>9}")  # fmt: skip
    for key in ("trend_following", "mean_reversion", "breakout", "dca"):
        strategy = registry.create(key)
        t_signal = best(lambda s=strategy: [run_strategy(s, c) for c in contexts()])
        t_both = best(lambda s=strategy: decide(s))
        rate = steps / t_both
        print(f"{key:<18}{steps / t_signal:>12,.0f}{rate:>15,.0f}{t_both / steps * 1e6:>13.1f}"
              f"{rate / GOAL:>8.2f}x")  # fmt: skip
        ratio(f"decisions.{key}.signal_risk_vs_pandas_ewm", t_pd / t_both)

    risk_only = best(lambda: [evaluate_entry(config, acc, TradeProposal(
        "ETHBTC", D("0.1"), D("0.098"), D("0.106"), D("0.001"), sectors,
        quote_asset="BTC", correlations=correlations)) for _ in range(steps)])  # fmt: skip
    print(f"{'risk engine only':<18}{'':>12}{steps / risk_only:>15,.0f}"
          f"{risk_only / steps * 1e6:>13.1f}")  # fmt: skip
    ratio("decisions.risk_engine_vs_pandas_ewm", t_pd / risk_only)

    # A live cycle also rebuilds the account snapshot (new marks) once per candle.
    build = best(lambda: [account() for _ in range(steps)])
    print(f"{'account snapshot':<18}{'':>12}{steps / build:>15,.0f}{build / steps * 1e6:>13.1f}"
          "   (3 positions, 2 balances; built once per account per cycle)")  # fmt: skip

    strategy = registry.create("trend_following")
    t_ours = best(lambda: [run_strategy(strategy, c) for c in contexts()])
    print(f"\ntrend signal: ours {steps / t_ours:,.0f}/s, pandas ewm {steps / t_pd:,.0f}/s "
          f"-> ours is {t_pd / t_ours:.1f}x pandas")  # fmt: skip
    ratio("decisions.trend_signal_vs_pandas_ewm", t_pd / t_ours)


if __name__ == "__main__":
    main()
