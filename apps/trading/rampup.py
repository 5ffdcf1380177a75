"""Ramp-up: a newly live configuration trades small at first.

From its go-live approval, a live config's order size grows linearly from the symbol's
minimum order to the size the risk engine wanted over `TRADING_RAMP_UP_DAYS` days
(default 7; 0 turns ramp-up off). Paper, testnet and demo configs are never reduced.
The result is not quantized: the caller rounds it to the symbol's step as usual.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings

from apps.accounts.models import Environment

D = Decimal


def ramp_up_days() -> int:
    return int(getattr(settings, "TRADING_RAMP_UP_DAYS", 7))


def ramp_started_at(config) -> datetime:
    """The go-live approval of this live config, or its creation if it went live
    another way (an admin creating it directly still ramps up)."""
    from .models import GoLiveRequest

    approved = (
        GoLiveRequest.objects.filter(live_config_id=config.pk, approved_at__isnull=False)
        .values_list("approved_at", flat=True)
        .first()
    )
    return approved or config.created_at


def ramp_quantity(*, config, wanted: Decimal, min_quantity: Decimal, now: datetime) -> Decimal:
    """The quantity a config may trade now: `wanted` for non-live configs and after the
    ramp; before that, min_quantity + (wanted - min_quantity) * elapsed / ramp length."""
    wanted = D(wanted)
    min_quantity = D(min_quantity)
    days = ramp_up_days()
    if config.account.environment != Environment.LIVE or wanted <= min_quantity or days <= 0:
        return wanted
    elapsed = D(str((now - ramp_started_at(config)) / timedelta(seconds=1)))
    length = D(days * 86400)
    elapsed = min(max(elapsed, D(0)), length)
    # Multiply before dividing, so whole days give exact sizes.
    return min_quantity + (wanted - min_quantity) * elapsed / length
