"""Risk profiles: every risk control of an account as validated configuration.

The pure engine (``apps.risk.engine``) does the work; a profile only stores the
settings and converts them with ``to_engine_config()``. Field names match the engine's
so that a validation error from the engine lands on the right form field.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import MoneyField, TimeStampedModel
from apps.strategies.engine.errors import ParameterErrors

from .engine import PRESETS, ExitConfig, LadderStep, RiskConfig
from .engine.config import DEFAULT_LADDER, DEFAULT_SECTOR_CAPS

D = Decimal

_EXIT_FIELDS = tuple(f for f in ExitConfig.__dataclass_fields__ if f != "ladder")
_RISK_FIELDS = tuple(f for f in RiskConfig.__dataclass_fields__ if f != "exits")


def default_sector_caps() -> dict[str, str]:
    return {tag: str(cap) for tag, cap in DEFAULT_SECTOR_CAPS.items()}


def default_ladder() -> list[dict[str, str]]:
    return [{"gain": str(s.gain), "fraction": str(s.fraction)} for s in DEFAULT_LADDER]


def _share(verbose_name, default, help_text, *, low="0", high="1", null=False):
    """A fraction such as 0.01 (= 1%), stored exactly."""
    return models.DecimalField(
        verbose_name,
        max_digits=9,
        decimal_places=6,
        default=None if default is None else D(default),
        null=null,
        blank=null,
        validators=[MinValueValidator(D(low)), MaxValueValidator(D(high))],
        help_text=help_text,
    )


def _bps_limit(verbose_name, help_text):
    """An optional limit in basis points, (0, 10000]; empty turns the rule off."""
    return models.DecimalField(
        verbose_name,
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(D("0.01")), MaxValueValidator(D(10_000))],
        help_text=help_text,
    )


class Preset(models.TextChoices):
    CONSERVATIVE = "conservative", _("Conservative")
    BALANCED = "balanced", _("Balanced")
    AGGRESSIVE = "aggressive", _("Aggressive")
    CUSTOM = "custom", _("Custom")


class SizingMethod(models.TextChoices):
    FIXED_FRACTIONAL = "fixed_fractional", _("Fixed fraction of equity at risk")
    VOLATILITY = "volatility", _("Volatility-normalised (ATR)")
    KELLY = "kelly", _("Fractional Kelly from the account's own trades")


class DrawdownMode(models.TextChoices):
    HALT = "halt", _("Halt: open nothing and alert")
    REDUCE_ONLY = "reduce_only", _("Reduce only: exits continue, no new entries")


class CorrelationAction(models.TextChoices):
    REJECT = "reject", _("Reject the new position")
    SCALE = "scale", _("Scale the new position down")


class TrailingMode(models.TextChoices):
    PROFIT_SHARE = "profit_share", _("Share of open profit (with a minimum distance)")
    ATR = "atr", _("Multiple of ATR")


class RiskProfile(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, help_text=_("A name operators recognise."))
    preset = models.CharField(
        _("preset"),
        max_length=16,
        choices=Preset.choices,
        default=Preset.BALANCED,
        help_text=_("The preset this profile started from; 'custom' once edited by hand."),
    )

    # --- sizing --------------------------------------------------------------------
    sizing_method = models.CharField(
        _("sizing method"),
        max_length=20,
        choices=SizingMethod.choices,
        default=SizingMethod.FIXED_FRACTIONAL,
        help_text=_("How the size of a new position is computed before any cap applies."),
    )
    risk_per_trade = _share(
        _("risk per trade"), "0.01",
        _("Share of equity lost if the stop fills (0.01 = 1%). Also Kelly's fallback."),
        high="0.1",
    )  # fmt: skip
    kelly_multiplier = _share(
        _("Kelly multiplier"), "0.25", _("Fraction of full Kelly to use (0.25 = quarter Kelly).")
    )
    kelly_cap = _share(
        _("Kelly cap"), "0.05", _("Most equity Kelly sizing may risk on one trade."), high="0.25"
    )
    kelly_min_trades = models.PositiveIntegerField(
        _("Kelly minimum trades"),
        default=30,
        validators=[MinValueValidator(1)],
        help_text=_("Closed trades needed before Kelly sizing replaces the fixed risk."),
    )
    max_position_notional = MoneyField(
        _("maximum position value"),
        null=True,
        blank=True,
        validators=[MinValueValidator(D("0.00000001"))],
        help_text=_("Largest position value in the valuation currency; empty for no cap."),
    )
    max_position_pct = _share(
        _("maximum position share"), "0.25", _("Largest position as a share of equity.")
    )

    # --- limits --------------------------------------------------------------------
    max_open_positions = models.PositiveSmallIntegerField(
        _("maximum open positions"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("New symbols are refused once this many positions are open."),
    )
    sector_caps = models.JSONField(
        _("sector caps"),
        default=default_sector_caps,
        blank=True,
        help_text=_(
            "Largest exposure per sector tag as a share of equity, e.g. "
            '{"DEFI": "0.30", "MEME": "0.10"}. Tags are upper case; untagged assets are '
            "not capped."
        ),
    )
    correlation_cap = _share(
        _("correlation cap"), "0.8",
        _("A new position whose returns correlate above this with an open one is refused "
          "or scaled."),
        low="-1",
    )  # fmt: skip
    correlation_action = models.CharField(
        _("above the correlation cap"),
        max_length=10,
        choices=CorrelationAction.choices,
        default=CorrelationAction.REJECT,
        help_text=_("Reject, or scale linearly from full size at the cap to zero at 1."),
    )
    max_portfolio_heat = _share(
        _("maximum portfolio heat"), "0.06",
        _("Cap on the sum of open risk-to-stop over equity (0.06 = 6%)."),
    )  # fmt: skip
    min_reward_risk = models.DecimalField(
        _("minimum reward:risk"),
        max_digits=6,
        decimal_places=2,
        default=D("2"),
        validators=[MinValueValidator(D(0)), MaxValueValidator(D(100))],
        help_text=_("Entries whose target is nearer than this many stop distances are refused."),
    )
    daily_loss_limit_abs = MoneyField(
        _("daily loss limit (amount)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(D("0.00000001"))],
        help_text=_("No new entries once today's loss (UTC day) reaches this amount."),
    )
    daily_loss_limit_pct = _share(
        _("daily loss limit (share)"), "0.02",
        _("No new entries once today's loss reaches this share of the day's starting "
          "equity. Start small."),
        null=True,
    )  # fmt: skip
    max_trades_per_day = models.PositiveSmallIntegerField(
        _("maximum trades per day"),
        default=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("New entries per UTC day; 2-3 is the advice for a first week."),
    )
    cooldown_after_losses = models.PositiveSmallIntegerField(
        _("cooldown after losses"),
        default=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Consecutive losing trades that start a cooldown; empty for none."),
    )
    cooldown_minutes = models.PositiveIntegerField(
        _("cooldown (minutes)"),
        default=240,
        help_text=_("How long no new entries are opened after the losing streak."),
    )
    max_drawdown = _share(
        _("maximum drawdown"), "0.15",
        _("Circuit breaker on equity (unrealized PnL included) below its peak."),
    )  # fmt: skip
    drawdown_mode = models.CharField(
        _("drawdown breaker mode"),
        max_length=12,
        choices=DrawdownMode.choices,
        default=DrawdownMode.HALT,
        help_text=_("What happens when the maximum drawdown is reached."),
    )
    reserved_balance_threshold = _share(
        _("reserved balance threshold"), "0.70",
        _("Above this share of the balance locked in open orders, alert and block entries."),
    )  # fmt: skip

    # --- liquidity (the live order book; never applied in backtests) ---------------
    max_spread_bps = _bps_limit(
        _("maximum spread (bps)"),
        _("Refuse entries while the order book's bid-ask spread is wider than this many basis "
          "points of the mid (10 = 0.1%); also refused without a fresh book. Empty: off."),
    )  # fmt: skip
    max_slippage_bps = _bps_limit(
        _("maximum slippage (bps)"),
        _("Refuse entries whose market buy, walked through the order book at its final size, "
          "would fill this many basis points above the mid or more; also refused without a "
          "fresh book. Empty: off."),
    )  # fmt: skip

    # --- exits ---------------------------------------------------------------------
    stop_atr_multiple = models.DecimalField(
        _("stop (ATR multiple)"),
        max_digits=6,
        decimal_places=2,
        default=D("2"),
        validators=[MinValueValidator(D("0.01")), MaxValueValidator(D(50))],
        help_text=_("Initial stop this many ATRs below the entry when the strategy gives none."),
    )
    trailing_enabled = models.BooleanField(
        _("trailing stop"), default=True, help_text=_("Raise the stop as price rises.")
    )
    trailing_activation = _share(
        _("trailing activation"), "0.01",
        _("Gain from entry before the stop starts trailing."), high="10",
    )  # fmt: skip
    trailing_mode = models.CharField(
        _("trailing distance"),
        max_length=12,
        choices=TrailingMode.choices,
        default=TrailingMode.PROFIT_SHARE,
        help_text=_("How far below the highest price the trailing stop sits."),
    )
    trailing_min_distance = _share(
        _("trailing minimum distance"), "0.005",
        _("Smallest trailing distance as a share of price (0.005 = 0.5%)."), high="0.5",
    )  # fmt: skip
    trailing_profit_share = _share(
        _("trailing share of profit"), "0.30",
        _("Trailing distance as a share of open profit, when larger than the minimum."),
    )  # fmt: skip
    trailing_atr_multiple = models.DecimalField(
        _("trailing distance (ATR multiple)"),
        max_digits=6,
        decimal_places=2,
        default=D("2"),
        validators=[MinValueValidator(D("0.01")), MaxValueValidator(D(50))],
        help_text=_("Trailing distance in ATRs when the ATR mode is chosen."),
    )
    breakeven_enabled = models.BooleanField(
        _("break-even stop"), default=True, help_text=_("Move the stop to cover entry and fees.")
    )
    breakeven_trigger = _share(
        _("break-even trigger"), "0.015",
        _("Gain from entry at which the stop moves to break-even (fees included)."), high="10",
    )  # fmt: skip
    fee_rate = _share(
        _("fee rate"), "0.001", _("Trading fee per side, used by the break-even stop."),
        high="0.1",
    )  # fmt: skip
    take_profit_ladder = models.JSONField(
        _("take-profit ladder"),
        default=default_ladder,
        blank=True,
        help_text=_(
            'Partial exits as [{"gain": "0.02", "fraction": "0.33"}, ...]: sell that '
            "fraction of the original size at that gain; the last step sells the rest."
        ),
    )
    time_exit_hours = models.PositiveIntegerField(
        _("time exit (hours)"),
        default=48,
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Close a position open this long without the minimum gain; empty for never."),
    )
    time_exit_min_gain = _share(
        _("time exit minimum gain"), "0.005",
        _("Gain a position must show by the time limit to stay open."), low="-1", high="10",
    )  # fmt: skip
    pyramid_max_additions = models.PositiveSmallIntegerField(
        _("pyramid additions"),
        default=2,
        help_text=_("How many times a winning position may be added to; 0 disables."),
    )
    pyramid_fraction = _share(
        _("pyramid addition size"), "0.5",
        _("Each addition as a share of the original position."), high="2",
    )  # fmt: skip
    pyramid_trigger = _share(
        _("pyramid trigger"), "0.02",
        _("Gain needed for the first addition; the n-th needs n times this."), high="10",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        verbose_name = _("risk profile")
        verbose_name_plural = _("risk profiles")

    def __str__(self) -> str:
        return self.name

    def to_engine_config(self) -> RiskConfig:
        """The pure engine's configuration; raises ParameterErrors if a rule is broken."""
        exits = ExitConfig(
            ladder=_ladder_from_json(self.take_profit_ladder),
            **{name: getattr(self, name) for name in _EXIT_FIELDS},
        )
        return RiskConfig(
            sector_caps=_caps_from_json(self.sector_caps),
            exits=exits,
            **{name: getattr(self, name) for name in _RISK_FIELDS if name != "sector_caps"},
        )

    def clean(self) -> None:
        super().clean()
        try:
            self.to_engine_config()
        except ParameterErrors as exc:
            raise ValidationError(_engine_errors_by_field(exc)) from None
        except _BadJSON as exc:
            raise ValidationError({exc.field: exc.message}) from None

    def apply_preset(self, preset: str) -> None:
        """Reset every setting to the model defaults, then apply ``preset``."""
        if preset not in PRESETS:
            raise ValidationError({"preset": _("Unknown preset %(name)s.") % {"name": preset}})
        for field in self._meta.concrete_fields:
            if field.name in _RISK_FIELDS or field.name in _EXIT_FIELDS:
                setattr(self, field.name, field.get_default())
        self.sector_caps = default_sector_caps()
        self.take_profit_ladder = default_ladder()
        for name, value in PRESETS[preset].items():
            setattr(self, name, value)
        self.preset = preset


class _BadJSON(Exception):
    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


def _decimal(value, field: str) -> Decimal:
    # JSON numbers arrive as float or int: go through str so 0.3 stays 0.3.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadJSON(field, _("Values must be decimal numbers written as strings."))
    try:
        result = D(str(value))
    except ArithmeticError:
        raise _BadJSON(field, _("Values must be decimal numbers written as strings.")) from None
    if not result.is_finite():
        raise _BadJSON(field, _("Values must be finite numbers."))
    return result


def _caps_from_json(raw) -> dict[str, Decimal]:
    if not isinstance(raw, dict):
        raise _BadJSON("sector_caps", _("Must be an object mapping tags to shares."))
    return {str(tag): _decimal(cap, "sector_caps") for tag, cap in raw.items()}


def _ladder_from_json(raw) -> tuple[LadderStep, ...]:
    if not isinstance(raw, list):
        raise _BadJSON("take_profit_ladder", _("Must be a list of steps."))
    steps = []
    for step in raw:
        if not isinstance(step, dict) or set(step) != {"gain", "fraction"}:
            raise _BadJSON(
                "take_profit_ladder", _('Each step must be {"gain": ..., "fraction": ...}.')
            )
        steps.append(
            LadderStep(
                _decimal(step["gain"], "take_profit_ladder"),
                _decimal(step["fraction"], "take_profit_ladder"),
            )
        )
    return tuple(steps)


def _engine_errors_by_field(exc: ParameterErrors) -> dict[str, list[str]]:
    """Engine field names ("ladder[1].gain", "sector_caps[DEFI]") -> model fields."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        name = error.field.split("[", 1)[0].split(".", 1)[0]
        name = {"ladder": "take_profit_ladder"}.get(name, name)
        # The rule text comes from the pure engine (English, no Django); the frame is
        # translatable.
        message = _("%(field)s: %(rule)s") % {"field": error.field, "rule": error.rule}
        errors.setdefault(name, []).append(message)
    return errors
