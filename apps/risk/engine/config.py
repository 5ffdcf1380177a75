"""Risk and exit settings of one account, as plain validated values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from types import MappingProxyType

from apps.strategies.engine.errors import ParameterError, ParameterErrors

D = Decimal

_D_0 = D(0)
_D_1 = D(1)
# Dataclass defaults must not be calls; Decimals are immutable, so share them.
_D_0_001 = D("0.001")
_D_0_005 = D("0.005")
_D_0_01 = D("0.01")
_D_0_015 = D("0.015")
_D_0_02 = D("0.02")
_D_0_05 = D("0.05")
_D_0_06 = D("0.06")
_D_0_15 = D("0.15")
_D_0_25 = D("0.25")
_D_0_30 = D("0.30")
_D_0_5 = D("0.5")
_D_0_70 = D("0.70")
_D_0_8 = D("0.8")
_D_2 = D("2")

SIZING_METHODS = ("fixed_fractional", "volatility", "kelly")
DRAWDOWN_MODES = ("halt", "reduce_only")
CORRELATION_ACTIONS = ("reject", "scale")
TRAILING_MODES = ("profit_share", "atr")
DEFAULT_SECTOR_CAPS = MappingProxyType(
    {"DEFI": D("0.30"), "MEME": D("0.10"), "LAYER1": D("0.40"), "STABLECOIN": D("0.20")}
)


@dataclass(frozen=True, slots=True)
class LadderStep:
    """Sell ``fraction`` of the original quantity once the gain reaches ``gain``
    (a fraction of 1 means "whatever is left")."""

    gain: Decimal
    fraction: Decimal


DEFAULT_LADDER = (
    LadderStep(D("0.02"), D("0.33")),
    LadderStep(D("0.04"), D("0.33")),
    LadderStep(D("0.08"), D("1")),
)


def _fraction(errors, name, value, *, low=_D_0, high=_D_1, low_open=False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        errors.append(ParameterError(name, "must be a Decimal number"))
    elif (value <= low if low_open else value < low) or value > high:
        bracket = "(" if low_open else "["
        errors.append(ParameterError(name, f"must be in {bracket}{low}, {high}]"))


def _count(errors, name, value, *, minimum=0, optional=False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        errors.append(ParameterError(name, f"must be an integer of at least {minimum}"))


def _choice(errors, name, value, choices) -> None:
    if value not in choices:
        errors.append(ParameterError(name, f"must be one of {', '.join(choices)}"))


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """Exit management. Gains are fractions of the entry price (0.02 = +2%)."""

    stop_atr_multiple: Decimal = _D_2
    trailing_enabled: bool = True
    trailing_activation: Decimal = _D_0_01
    trailing_mode: str = "profit_share"
    trailing_min_distance: Decimal = _D_0_005
    trailing_profit_share: Decimal = _D_0_30
    trailing_atr_multiple: Decimal = _D_2
    breakeven_enabled: bool = True
    breakeven_trigger: Decimal = _D_0_015
    fee_rate: Decimal = _D_0_001
    ladder: tuple[LadderStep, ...] = DEFAULT_LADDER
    time_exit_hours: int | None = 48
    time_exit_min_gain: Decimal = _D_0_005
    pyramid_max_additions: int = 2
    pyramid_fraction: Decimal = _D_0_5
    pyramid_trigger: Decimal = _D_0_02

    def __post_init__(self) -> None:
        errors: list[ParameterError] = []
        _fraction(errors, "stop_atr_multiple", self.stop_atr_multiple, high=D(50), low_open=True)
        _fraction(errors, "trailing_activation", self.trailing_activation, high=D(10))
        _choice(errors, "trailing_mode", self.trailing_mode, TRAILING_MODES)
        _fraction(errors, "trailing_min_distance", self.trailing_min_distance, high=D("0.5"))
        _fraction(errors, "trailing_profit_share", self.trailing_profit_share)
        _fraction(
            errors, "trailing_atr_multiple", self.trailing_atr_multiple, high=D(50), low_open=True
        )
        _fraction(errors, "breakeven_trigger", self.breakeven_trigger, high=D(10), low_open=True)
        _fraction(errors, "fee_rate", self.fee_rate, high=D("0.1"))
        _count(errors, "time_exit_hours", self.time_exit_hours, minimum=1, optional=True)
        _fraction(errors, "time_exit_min_gain", self.time_exit_min_gain, low=D(-1), high=D(10))
        _count(errors, "pyramid_max_additions", self.pyramid_max_additions)
        _fraction(errors, "pyramid_fraction", self.pyramid_fraction, high=D(2))
        _fraction(errors, "pyramid_trigger", self.pyramid_trigger, high=D(10), low_open=True)
        previous = D(0)
        for i, step in enumerate(self.ladder):
            name = f"ladder[{i}]"
            if not isinstance(step, LadderStep):
                errors.append(ParameterError(name, "must be a LadderStep(gain, fraction)"))
                continue
            _fraction(errors, f"{name}.gain", step.gain, high=D(100), low_open=True)
            _fraction(errors, f"{name}.fraction", step.fraction, low_open=True)
            if isinstance(step.gain, Decimal) and step.gain <= previous:
                errors.append(ParameterError(f"{name}.gain", "must be above the previous step"))
            previous = step.gain if isinstance(step.gain, Decimal) else previous
        if errors:
            raise ParameterErrors(errors)

    def breakeven_price(self, entry: Decimal) -> Decimal:
        """The exit price that returns the entry cost after both fees."""
        return entry * (1 + self.fee_rate) / (1 - self.fee_rate)


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """Per-account risk limits. Fractions are of current equity unless named otherwise."""

    sizing_method: str = "fixed_fractional"
    risk_per_trade: Decimal = _D_0_01
    kelly_multiplier: Decimal = _D_0_25
    kelly_cap: Decimal = _D_0_05
    kelly_min_trades: int = 30
    max_position_notional: Decimal | None = None
    max_position_pct: Decimal = _D_0_25
    max_open_positions: int = 5
    sector_caps: Mapping[str, Decimal] = field(default_factory=lambda: DEFAULT_SECTOR_CAPS)
    correlation_cap: Decimal = _D_0_8
    correlation_action: str = "reject"
    max_portfolio_heat: Decimal = _D_0_06
    min_reward_risk: Decimal = _D_2
    daily_loss_limit_abs: Decimal | None = None
    daily_loss_limit_pct: Decimal | None = _D_0_02
    max_trades_per_day: int | None = 3
    cooldown_after_losses: int | None = 3
    cooldown_minutes: int = 240
    max_drawdown: Decimal = _D_0_15
    drawdown_mode: str = "halt"
    reserved_balance_threshold: Decimal = _D_0_70
    # Liquidity limits in basis points (None: off), read from the live order book.
    max_spread_bps: Decimal | None = None
    max_slippage_bps: Decimal | None = None
    exits: ExitConfig = field(default_factory=ExitConfig)

    def __post_init__(self) -> None:
        errors: list[ParameterError] = []
        _choice(errors, "sizing_method", self.sizing_method, SIZING_METHODS)
        _fraction(errors, "risk_per_trade", self.risk_per_trade, high=D("0.1"), low_open=True)
        _fraction(errors, "kelly_multiplier", self.kelly_multiplier, low_open=True)
        _fraction(errors, "kelly_cap", self.kelly_cap, high=D("0.25"), low_open=True)
        _count(errors, "kelly_min_trades", self.kelly_min_trades, minimum=1)
        if self.max_position_notional is not None:
            _fraction(
                errors,
                "max_position_notional",
                self.max_position_notional,
                high=D("1e18"),
                low_open=True,
            )
        _fraction(errors, "max_position_pct", self.max_position_pct, low_open=True)
        _count(errors, "max_open_positions", self.max_open_positions, minimum=1)
        for tag, cap in self.sector_caps.items():
            if not isinstance(tag, str) or not tag or tag != tag.upper():
                errors.append(ParameterError("sector_caps", f"tag {tag!r} must be upper case"))
            _fraction(errors, f"sector_caps[{tag}]", cap)
        _fraction(errors, "correlation_cap", self.correlation_cap, low=D(-1))
        _choice(errors, "correlation_action", self.correlation_action, CORRELATION_ACTIONS)
        _fraction(errors, "max_portfolio_heat", self.max_portfolio_heat, low_open=True)
        _fraction(errors, "min_reward_risk", self.min_reward_risk, high=D(100))
        if self.daily_loss_limit_abs is not None:
            _fraction(
                errors,
                "daily_loss_limit_abs",
                self.daily_loss_limit_abs,
                high=D("1e18"),
                low_open=True,
            )
        if self.daily_loss_limit_pct is not None:
            _fraction(errors, "daily_loss_limit_pct", self.daily_loss_limit_pct, low_open=True)
        _count(errors, "max_trades_per_day", self.max_trades_per_day, minimum=1, optional=True)
        _count(
            errors, "cooldown_after_losses", self.cooldown_after_losses, minimum=1, optional=True
        )
        _count(errors, "cooldown_minutes", self.cooldown_minutes)
        _fraction(errors, "max_drawdown", self.max_drawdown, low_open=True)
        _choice(errors, "drawdown_mode", self.drawdown_mode, DRAWDOWN_MODES)
        _fraction(
            errors, "reserved_balance_threshold", self.reserved_balance_threshold, low_open=True
        )
        for name in ("max_spread_bps", "max_slippage_bps"):
            value = getattr(self, name)
            if value is not None:
                _fraction(errors, name, value, high=D(10_000), low_open=True)
        if not isinstance(self.exits, ExitConfig):
            errors.append(ParameterError("exits", "must be an ExitConfig"))
        if errors:
            raise ParameterErrors(errors)
        # Freeze the caps so a shared config cannot be changed under a running engine.
        object.__setattr__(self, "sector_caps", MappingProxyType(dict(self.sector_caps)))

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}
