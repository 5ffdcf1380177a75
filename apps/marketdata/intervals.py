"""Binance kline intervals and their lengths in milliseconds."""

from django.db import models
from django.utils.translation import gettext_lazy as _

MINUTE_MS = 60_000


class Interval(models.TextChoices):
    M1 = "1m", _("1 minute")
    M3 = "3m", _("3 minutes")
    M5 = "5m", _("5 minutes")
    M15 = "15m", _("15 minutes")
    M30 = "30m", _("30 minutes")
    H1 = "1h", _("1 hour")
    H2 = "2h", _("2 hours")
    H4 = "4h", _("4 hours")
    H6 = "6h", _("6 hours")
    H8 = "8h", _("8 hours")
    H12 = "12h", _("12 hours")
    D1 = "1d", _("1 day")
    D3 = "3d", _("3 days")
    W1 = "1w", _("1 week")


INTERVAL_MS = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "2h": 120 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS,
    "8h": 480 * MINUTE_MS,
    "12h": 720 * MINUTE_MS,
    "1d": 1440 * MINUTE_MS,
    "3d": 3 * 1440 * MINUTE_MS,
    "1w": 7 * 1440 * MINUTE_MS,
}
