"""Portfolio backtests: visiting only the times where something can happen against
visiting every time of the union (``Portfolio.run`` against ``run_every_time``, the
reference it is tested against), same process, same signals.

Run: .venv/bin/python bench/portfolio.py [--bars N] [--symbols K] [--repeat R]
     [--offset-minutes M]

K symbols (4 by default) of N one-hour synthetic bars each (20,000 by default),
aligned (or symbol i starting i * M minutes later: a union of misaligned times), one
account, three set-ups:
1. all-in SMA(10)/SMA(30), next-open fills, no risk config;
2. trend_following with the risk engine, intrabar resting stop and target, exits not
   managed on every bar (only signals, fills and touches need a visit);
3. the same with exit management on every bar held (every held bar needs a visit).
Each round builds two portfolios (signals included, untimed) and times both loops
back to back; the ratio is the median of the rounds' reference / fast times (above 1:
skipping is faster), reported through ``report.ratio``. Times visited against the
union's length are printed too.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from report import ratio  # noqa: E402

from apps.backtest.engine import (  # noqa: E402
    BacktestSettings,
    FillModel,
    MarketRules,
    SmaCross,
    synthetic_candles,
)
from apps.backtest.engine.portfolio import Portfolio  # noqa: E402
from apps.risk.engine import RiskConfig  # noqa: E402
from apps.strategies.engine import registry  # noqa: E402

HOUR = 3_600_000
CASH = Decimal(100_000)
RISK = RiskConfig(
    max_open_positions=4,
    sector_caps={},
    correlation_cap=Decimal("0.9"),
    max_portfolio_heat=Decimal("0.2"),
    max_position_pct=Decimal("0.3"),
    min_reward_risk=Decimal("1"),
    max_drawdown=Decimal("0.5"),
    max_trades_per_day=None,
    cooldown_after_losses=None,
)


def setups(symbols: list[str]) -> dict[str, tuple]:
    """name -> (strategy, settings per symbol)."""

    def settings(risk, mode, manage_exits):
        return {
            s: BacktestSettings(
                symbol=s,
                interval="1h",
                initial_cash=CASH,
                fill=FillModel(mode=mode),
                market=MarketRules(step_size=Decimal("0.0001"), min_notional=Decimal(5)),
                risk=risk,
                manage_exits=manage_exits,
            )
            for s in symbols
        }

    trend = registry.create("trend_following", {"fast": 8, "slow": 21, "adx_min": 15.0})
    return {
        "all_in": (SmaCross({"fast": 10, "slow": 30}), settings(None, "next_open", False)),
        "risk_stops": (trend, settings(RISK, "intrabar", False)),
        "managed_exits": (trend, settings(RISK, "intrabar", True)),
    }


def timed(func) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def measure(strategy, candles, settings, repeat: int) -> float:
    def build():
        return Portfolio(strategy, candles, settings, initial_cash=CASH)

    rounds = []
    for _ in range(repeat):
        fast_time, fast = timed(build().run)
        reference_time, reference = timed(build().run_every_time)
        rounds.append((fast_time, reference_time))
    # The bench times the same results: a cheap check that they are.
    assert fast.trades == reference.trades
    assert fast.final_equity == reference.final_equity
    assert np.array_equal(fast.equity, reference.equity)
    best_fast = min(f for f, _ in rounds)
    best_reference = min(r for _, r in rounds)
    union = fast.open_time.size
    print(
        f"  {len(fast.trades):>5} trades, {fast.visited_bars:>7,} of {union:,} times visited "
        f"({fast.visited_bars / union:.1%})"
    )
    print(f"  skipping   {best_fast * 1000:9.1f} ms (best of {repeat})")
    print(f"  every time {best_reference * 1000:9.1f} ms")
    return float(np.median([r / f for f, r in rounds]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=20_000)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--offset-minutes", type=int, default=0)
    args = parser.parse_args()
    symbols = [f"S{i}USDT" for i in range(args.symbols)]
    offset = args.offset_minutes * 60_000
    candles = {
        s: synthetic_candles(
            args.bars,
            seed=i + 1,
            volatility=0.01,
            interval_ms=HOUR,
            start_ms=1_600_000_000_000 + i * offset,
        )
        for i, s in enumerate(symbols)
    }
    layout = f"symbol i {args.offset_minutes} min x i later" if offset else "aligned"
    print(f"Portfolio of {args.symbols} symbols x {args.bars:,} one-hour bars ({layout})")
    for name, (strategy, settings) in setups(symbols).items():
        print(f"{name}:")
        speedup = measure(strategy, candles, settings, args.repeat)
        print(f"  skipping vs every time: {speedup:6.2f}x (median of {args.repeat} pairs)")
        suffix = "_misaligned" if offset else ""
        ratio(f"portfolio.skip_vs_every_time_{name}{suffix}", speedup)


if __name__ == "__main__":
    main()
