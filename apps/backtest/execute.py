"""Run one stored backtest: load its candles, replay them through the pure engine,
and shape the result for storage. No writes here (services store the outcome).

Several symbols run as one account (`engine.portfolio`): one cash balance, the risk
engine seeing every position, so heat, exposure, open-position and correlation limits
act across the symbols.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from apps.risk.models import RiskProfile
from apps.strategies.engine import registry

from . import data
from .engine import BacktestResult, BacktestSettings, FillModel, run_backtest
from .engine.montecarlo import monte_carlo, trade_returns
from .engine.portfolio import run_portfolio
from .models import Backtest

Progress = Callable[[int], None]
MONTE_CARLO_RUNS = 1000
_SNAPSHOT_SKIP = {"id", "created_at", "updated_at", "name", "preset"}


class DataMissing(Exception):
    """No candles for a symbol of the period; the message says which and what to do."""


def risk_snapshot(profile: RiskProfile | None) -> dict | None:
    """A risk profile's settings as JSON, so a stored backtest never changes later."""
    if profile is None:
        return None
    out = {}
    for f in profile._meta.concrete_fields:
        if f.name in _SNAPSHOT_SKIP:
            continue
        value = f.value_from_object(profile)
        out[f.name] = str(value) if isinstance(value, Decimal) else value
    return out


def risk_config(snapshot: dict | None):
    """The engine's RiskConfig from a snapshot (an unsaved RiskProfile does the parsing)."""
    if not snapshot:
        return None
    fields = {f.name: f for f in RiskProfile._meta.concrete_fields}
    values = {
        name: fields[name].to_python(value) if name in fields else value
        for name, value in snapshot.items()
        if name in fields
    }
    return RiskProfile(**values).to_engine_config()


def finite(value):
    """JSON (and PostgreSQL's jsonb) has no infinity: store it as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


@dataclass
class Outcome:
    result: BacktestResult  # the whole run (sleeves combined)
    interval_ms: int
    monte_carlo: dict


def _symbol_row(backtest: Backtest, name: str):
    from apps.marketdata.models import Symbol

    row = Symbol.objects.filter(environment=backtest.environment, name=name).first()
    if row is None:
        raise DataMissing(
            f"{name} is not a known symbol of the {backtest.environment} exchange: "
            "sync the exchange's symbols first"
        )
    return row


def load_candles(backtest: Backtest, name: str) -> tuple[np.ndarray, data.MarketRules]:
    symbol = _symbol_row(backtest, name)
    window = {"interval": backtest.interval, "start": backtest.start, "end": backtest.end}
    if backtest.backfill and backtest.account_id is not None:
        stored, expected = data.coverage(symbol=symbol, **window)
        if stored < expected:
            data.backfill(backtest.account, symbol=name, **window)
    candles = data.candles_array(symbol=symbol, **window)
    if candles.size < 2:
        raise DataMissing(
            f"no candles of {name} {backtest.interval} between {backtest.start:%Y-%m-%d %H:%M} "
            f"and {backtest.end:%Y-%m-%d %H:%M}: import a dump (import_klines) or run with "
            "backfill from an account"
        )
    return candles, data.market_rules(symbol)


def run(backtest: Backtest, *, progress: Progress | None = None) -> Outcome:
    progress = progress or (lambda pct: None)
    strategy = registry.create(backtest.strategy, backtest.params)
    risk = risk_config(backtest.risk)
    symbols = list(backtest.symbols)
    candles, settings = {}, {}
    for k, name in enumerate(symbols):
        candles[name], rules = load_candles(backtest, name)
        settings[name] = BacktestSettings(
            symbol=name,
            interval=backtest.interval,
            initial_cash=backtest.initial_cash,
            fill=FillModel(
                backtest.fill_mode, backtest.commission, backtest.slippage, rules.tick_size
            ),
            market=rules,
            risk=risk,
        )
        progress(5 + int(45 * (k + 1) / len(symbols)))
    if len(symbols) == 1:
        result = run_backtest(strategy, candles[symbols[0]], settings[symbols[0]])
    else:  # one account's cash across the symbols, its limits acting across them
        result = run_portfolio(strategy, candles, settings, initial_cash=backtest.initial_cash)
    progress(95)
    interval_ms = _interval_ms(result.open_time)
    return Outcome(result, interval_ms, _monte_carlo(result, seed=backtest.pk or 0))


def _interval_ms(open_time: np.ndarray) -> int:
    return int(np.median(np.diff(open_time))) if open_time.size > 1 else 60_000


def _monte_carlo(result: BacktestResult, *, seed: int) -> dict:
    if len(result.trades) < 2:
        return {}
    ordered = sorted(result.trades, key=lambda t: t.exit_ms)
    returns = trade_returns([t.pnl for t in ordered], float(result.initial_cash))
    summary = monte_carlo(returns, simulations=MONTE_CARLO_RUNS, seed=seed).as_dict()
    return finite(summary)


def trade_rows(result: BacktestResult) -> list[dict]:
    return [
        {
            "symbol": t.symbol,
            "entry_time": t.entry_ms,
            "exit_time": t.exit_ms,
            "entry_bar": t.entry_bar,
            "exit_bar": t.exit_bar,
            "quantity": str(t.quantity),
            "entry_price": str(t.entry_price),
            "exit_price": str(t.exit_price),
            "pnl": str(t.pnl),
            "fees": str(t.fees),
            "return_pct": str(t.return_pct),
            "r_multiple": None if t.r_multiple is None else str(t.r_multiple),
            "exit_reason": t.exit_reason,
        }
        for t in result.trades
    ]


def metrics_dict(outcome: Outcome) -> dict:
    result = outcome.result
    return finite(
        {
            **result.metrics.as_dict(),
            "initial_cash": str(result.initial_cash),
            "final_equity": str(result.final_equity),
            "bars": int(result.equity.size),
            "evaluated_bars": result.evaluated_bars,
            "rejected_entries": result.rejected,
            "refused_orders": len(result.refused),
        }
    )
