"""Base models shared by every app."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .decimals import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class TimeStampedModel(models.Model):
    """Created/updated timestamps (aware UTC) for every table that changes."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


def MoneyField(verbose_name=None, **kwargs) -> models.DecimalField:
    """A DecimalField wide enough for any Binance amount or price."""
    kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
    return models.DecimalField(verbose_name, **kwargs)
