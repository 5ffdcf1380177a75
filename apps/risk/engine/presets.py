"""Named starting points for a risk profile. Values are overrides of the engine
defaults (which are the seed document's: the "balanced" preset)."""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

D = Decimal

PRESETS = MappingProxyType(
    {
        # Capital preservation: small risk, few positions, no pyramiding, early halt.
        "conservative": MappingProxyType(
            {
                "risk_per_trade": D("0.005"),
                "max_position_pct": D("0.15"),
                "max_open_positions": 3,
                "correlation_cap": D("0.7"),
                "max_portfolio_heat": D("0.03"),
                "min_reward_risk": D("2.5"),
                "daily_loss_limit_pct": D("0.01"),
                "max_trades_per_day": 2,
                "cooldown_after_losses": 2,
                "max_drawdown": D("0.10"),
                "drawdown_mode": "halt",
                "reserved_balance_threshold": D("0.50"),
                "pyramid_max_additions": 0,
            }
        ),
        # The seed document's defaults, with its first-week advice for the daily caps.
        "balanced": MappingProxyType({}),
        # More risk, more positions, Kelly sizing once there is a track record.
        "aggressive": MappingProxyType(
            {
                "sizing_method": "kelly",
                "risk_per_trade": D("0.02"),
                "max_position_pct": D("0.40"),
                "max_open_positions": 10,
                "correlation_cap": D("0.9"),
                "correlation_action": "scale",
                "max_portfolio_heat": D("0.12"),
                "min_reward_risk": D("1.5"),
                "daily_loss_limit_pct": D("0.05"),
                "max_trades_per_day": 10,
                "cooldown_after_losses": 4,
                "cooldown_minutes": 60,
                "max_drawdown": D("0.25"),
                "drawdown_mode": "reduce_only",
                "reserved_balance_threshold": D("0.85"),
                "pyramid_max_additions": 3,
            }
        ),
    }
)
