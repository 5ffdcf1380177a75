"""Position sizing: how much to buy before any cap is applied."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from .config import RiskConfig
from .money import ZERO, div_floor
from .state import TradeStats


def kelly_fraction(stats: TradeStats, multiplier: Decimal, cap: Decimal) -> Decimal:
    """Fractional Kelly share of equity to risk: (W - (1 - W) / R) * multiplier,
    clamped to [0, cap]. R is average win over average loss."""
    if stats.trades <= 0 or stats.average_loss <= 0 or stats.average_win <= 0:
        return ZERO
    win_rate = Decimal(stats.wins) / Decimal(stats.trades)
    payoff = stats.average_win / stats.average_loss
    kelly = win_rate - (1 - win_rate) / payoff
    return min(max(ZERO, kelly * multiplier), cap)


@lru_cache(maxsize=256)
def _fixed_reason(fraction: Decimal) -> str:
    return f"risk {fraction:%} of equity"


def risk_fraction(config: RiskConfig, stats: TradeStats) -> tuple[Decimal, str]:
    """Share of equity to risk on this trade, and why."""
    if config.sizing_method != "kelly":
        return config.risk_per_trade, _fixed_reason(config.risk_per_trade)
    if stats.trades < config.kelly_min_trades:
        return (
            config.risk_per_trade,
            f"Kelly needs {config.kelly_min_trades} trades, have {stats.trades}: "
            f"risk {config.risk_per_trade:%} of equity",
        )
    fraction = kelly_fraction(stats, config.kelly_multiplier, config.kelly_cap)
    return fraction, f"fractional Kelly: risk {fraction:.4%} of equity"


def base_quantity(
    *,
    config: RiskConfig,
    equity: Decimal,
    stats: TradeStats,
    entry: Decimal,
    stop: Decimal,
    atr: Decimal | None,
    quote_rate: Decimal,
) -> tuple[Decimal, str]:
    """Quantity whose loss at the stop equals the risk budget.

    fixed_fractional and kelly divide the budget by the stop distance; volatility
    divides it by ``stop_atr_multiple`` ATRs, so every asset carries the same risk in
    units of its own volatility whatever stop the strategy suggested.
    """
    fraction, why = risk_fraction(config, stats)
    budget = equity * fraction
    if config.sizing_method == "volatility":
        if atr is None or atr <= 0:
            return ZERO, "volatility sizing needs a positive ATR"
        distance = atr * config.exits.stop_atr_multiple
        why += f" over {config.exits.stop_atr_multiple} ATR"
    else:
        distance = entry - stop
    if distance <= 0:
        return ZERO, "stop distance is not positive"
    return div_floor(budget, distance * quote_rate), why
