"""Backtests as records: what was run (a snapshot, so later edits to a strategy config
or risk profile never change a result), its progress and its result.

A `BacktestBatch` is a parent that splits into child backtests: a parameter sweep,
a walk-forward analysis (a sweep per training window, then the best parameters on the
test window after it) or an A/B comparison. Everything belongs to one organization.
"""

from __future__ import annotations

import zlib

import numpy as np
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Environment, ExchangeAccount, Organization
from apps.accounts.scoping import OrganizationScopedQuerySet
from apps.core.models import MoneyField, TimeStampedModel
from apps.marketdata.intervals import Interval


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


FINISHED = (Status.DONE, Status.FAILED)


class FillMode(models.TextChoices):
    NEXT_OPEN = "next_open", _("Next bar's open")
    INTRABAR = "intrabar", _("Intrabar stops and targets (stop first)")


class BacktestBatch(TimeStampedModel):
    class Kind(models.TextChoices):
        SWEEP = "sweep", _("Parameter sweep")
        WALK_FORWARD = "walk_forward", _("Walk-forward analysis")
        COMPARE = "compare", _("A/B comparison")

    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="backtest_batches",
        verbose_name=_("organization"),
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    spec = models.JSONField(
        _("specification"), default=dict, help_text=_("Grid, folds, objective, base settings.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress"), default=0, validators=[MaxValueValidator(100)]
    )
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("backtest batch")
        verbose_name_plural = _("backtest batches")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Backtest(TimeStampedModel):
    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="backtests", verbose_name=_("organization")
    )
    account = models.ForeignKey(
        ExchangeAccount, models.SET_NULL, null=True, blank=True, related_name="backtests",
        verbose_name=_("exchange account"),
        help_text=_("Optional: its environment's symbols, and backfill through its gateway."),
    )  # fmt: skip
    batch = models.ForeignKey(
        BacktestBatch, models.CASCADE, null=True, blank=True, related_name="runs",
        verbose_name=_("batch"),
    )  # fmt: skip
    role = models.CharField(
        _("role in the batch"), max_length=40, blank=True,
        help_text=_("e.g. 'sweep', 'train 2', 'test 2', 'A', 'B'."),
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=120)
    source_config = models.ForeignKey(
        "strategies.StrategyConfig", models.SET_NULL, null=True, blank=True,
        related_name="backtests", verbose_name=_("from strategy configuration"),
    )  # fmt: skip
    # --- the snapshot -------------------------------------------------------------
    strategy = models.CharField(_("strategy"), max_length=60)
    strategy_version = models.CharField(_("strategy version"), max_length=20)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    risk = models.JSONField(
        _("risk profile snapshot"), null=True, blank=True,
        help_text=_("Empty: all-in entries, exits by the strategy only."),
    )  # fmt: skip
    risk_profile_name = models.CharField(_("risk profile"), max_length=100, blank=True)
    environment = models.CharField(
        _("environment"), max_length=10, choices=Environment.choices, default=Environment.LIVE
    )
    symbols = models.JSONField(_("symbols"), default=list)
    interval = models.CharField(_("interval"), max_length=4, choices=Interval.choices)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    fill_mode = models.CharField(
        _("fill model"), max_length=10, choices=FillMode.choices, default=FillMode.NEXT_OPEN
    )
    commission = MoneyField(_("commission"), default="0.001")
    slippage = MoneyField(_("slippage"), default=0)
    initial_cash = MoneyField(_("initial cash"), default=10000)
    backfill = models.BooleanField(
        _("backfill missing candles"), default=False,
        help_text=_("Fetch missing candles from the exchange through the account's gateway."),
    )  # fmt: skip
    # --- progress and result ------------------------------------------------------
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    error = models.TextField(_("error"), blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    monte_carlo = models.JSONField(_("Monte Carlo"), default=dict, blank=True)
    trades = models.JSONField(_("trades"), default=list, blank=True)
    bars = models.PositiveIntegerField(_("bars"), default=0)
    # zlib of the int64 open times and the float64 equity at each close, one per bar
    curve = models.BinaryField(_("equity curve"), default=b"", blank=True, editable=False)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("backtest")
        verbose_name_plural = _("backtests")
        indexes = [models.Index(fields=["organization", "strategy", "status"], name="bt_lookup")]

    def __str__(self) -> str:
        return self.name

    # --- the compact curve --------------------------------------------------------

    @staticmethod
    def pack_curve(open_time: np.ndarray, equity: np.ndarray) -> bytes:
        times = np.asarray(open_time, dtype="<i8")
        values = np.asarray(equity, dtype="<f8")
        # Times as deltas: mostly one repeated interval, which zlib folds to nothing.
        deltas = np.diff(times, prepend=np.int64(0)).astype("<i8")
        return zlib.compress(len(times).to_bytes(8, "little") + deltas.tobytes() + values.tobytes())

    def unpack_curve(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.curve:
            return np.empty(0, dtype=np.int64), np.empty(0)
        raw = zlib.decompress(bytes(self.curve))
        n = int.from_bytes(raw[:8], "little")
        deltas = np.frombuffer(raw[8 : 8 + 8 * n], dtype="<i8")
        values = np.frombuffer(raw[8 + 8 * n :], dtype="<f8")
        return np.cumsum(deltas), values.copy()


class BacktestCriteria(TimeStampedModel):
    """An organization's optional backtest criteria for the go-live checklist: a done
    backtest of the same strategy, version and parameters must meet them."""

    organization = models.OneToOneField(
        Organization, models.CASCADE, related_name="backtest_criteria",
        verbose_name=_("organization"),
    )  # fmt: skip
    enabled = models.BooleanField(_("enabled"), default=True)
    min_sharpe = models.DecimalField(
        _("minimum Sharpe ratio"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    min_trades = models.PositiveIntegerField(_("minimum number of trades"), null=True, blank=True)
    min_profit_factor = models.DecimalField(
        _("minimum profit factor"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    max_drawdown = models.DecimalField(
        _("maximum drawdown"), max_digits=6, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("A fraction: 0.25 = 25%."),
    )  # fmt: skip
    min_period_days = models.PositiveIntegerField(
        _("minimum period (days)"), default=180,
        help_text=_("The backtest must cover at least this many days."),
    )  # fmt: skip
    max_age_days = models.PositiveIntegerField(
        _("maximum age (days)"), null=True, blank=True,
        help_text=_("Ignore backtests that finished longer ago; empty for no limit."),
    )  # fmt: skip

    objects = OrganizationScopedQuerySet.as_manager()
    organization_path = "organization"

    class Meta:
        verbose_name = _("backtest criteria")
        verbose_name_plural = _("backtest criteria")

    def __str__(self) -> str:
        return str(self.organization)
