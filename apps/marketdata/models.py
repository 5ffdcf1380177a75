"""Symbols (from exchangeInfo) and candles. Market data belongs to no organization:
it is the same for every account of an environment."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Environment
from apps.core.decimals import to_wire
from apps.core.models import MoneyField, TimeStampedModel

from .intervals import Interval


class Symbol(TimeStampedModel):
    """One symbol of one environment (testnet and paper list other symbols and
    filters than live). Written by `services.sync_symbols`, read-only elsewhere."""

    environment = models.CharField(_("environment"), max_length=10, choices=Environment.choices)
    name = models.CharField(_("symbol"), max_length=20)
    base_asset = models.CharField(_("base asset"), max_length=12)
    quote_asset = models.CharField(_("quote asset"), max_length=12)
    status = models.CharField(
        _("status"),
        max_length=20,
        help_text=_("As exchangeInfo says (TRADING, HALT...); UNKNOWN until synced."),
    )
    filters = models.JSONField(_("filters"), default=list, blank=True)
    # Copied out of the filters so dust and sizing need no JSON parsing.
    tick_size = MoneyField(_("tick size"), default=0)
    step_size = MoneyField(_("step size"), default=0)
    min_qty = MoneyField(_("minimum quantity"), default=0)
    min_notional = MoneyField(_("minimum notional"), default=0)
    sector_tags = models.JSONField(
        _("sector tags"),
        default=list,
        blank=True,
        help_text=_("Upper-case tags (DEFI, MEME...) for the risk profile's caps."),
    )
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)

    class Meta:
        ordering = ["environment", "name"]
        verbose_name = _("symbol")
        verbose_name_plural = _("symbols")
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="symbol_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"

    @property
    def is_trading(self) -> bool:
        return self.status == "TRADING"


class Candle(models.Model):
    """A closed kline. On PostgreSQL the table is partitioned by month of `open_time`
    (migration 0002); the unique key leads with (symbol, interval) so the newest-N
    window read is one backward index scan."""

    symbol = models.ForeignKey(
        Symbol,
        on_delete=models.PROTECT,
        related_name="candles",
        verbose_name=_("symbol"),
        db_index=False,  # candle_unique_open_time leads with it (docs/performance.md)
    )
    interval = models.CharField(_("interval"), max_length=4, choices=Interval.choices)
    open_time = models.DateTimeField(_("open time"))
    close_time = models.DateTimeField(_("close time"))
    open = MoneyField(_("open"))
    high = MoneyField(_("high"))
    low = MoneyField(_("low"))
    close = MoneyField(_("close"))
    volume = MoneyField(_("volume"))
    quote_volume = MoneyField(_("quote volume"))
    trades = models.BigIntegerField(_("trades"), default=0)
    taker_buy_base_volume = MoneyField(_("taker buy base volume"), default=0)
    taker_buy_quote_volume = MoneyField(_("taker buy quote volume"), default=0)

    class Meta:
        ordering = ["symbol", "interval", "-open_time"]
        verbose_name = _("candle")
        verbose_name_plural = _("candles")
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "interval", "open_time"], name="candle_unique_open_time"
            )
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.interval} {self.open_time:%Y-%m-%d %H:%M}"

    def as_kline_row(self):
        """The candle as a validated KlineRow (Decimal values, aware times)."""
        from .klines import KlineRow

        return KlineRow(**{name: getattr(self, name) for name in KlineRow.__slots__})

    def as_kline(self) -> list:
        """Binance's 12-column layout (ms times, decimal strings)."""
        from .times import datetime_to_ms

        return [
            datetime_to_ms(self.open_time),
            *(to_wire(getattr(self, name)) for name in ("open", "high", "low", "close", "volume")),
            datetime_to_ms(self.close_time),
            to_wire(self.quote_volume),
            self.trades,
            to_wire(self.taker_buy_base_volume),
            to_wire(self.taker_buy_quote_volume),
            "0",
        ]
