"""The decision record: one per (account, config, symbol) evaluation."""

from __future__ import annotations

import json
import math
from datetime import datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from apps.core.errors import ValidationError
from apps.monitoring.trading_alerts import alert_risk_triggers
from apps.strategies.models import StrategyConfig

from .. import events
from ..models import Decision


class _Encoder(DjangoJSONEncoder):
    # Decimals as strings (never floats); numpy scalars and NaN made JSON-safe.
    def default(self, o):
        if isinstance(o, Decimal):
            return str(o)
        if hasattr(o, "item"):
            return o.item()
        return super().default(o)


def _json(value):
    def clean(item):
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {str(k): clean(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [clean(v) for v in item]
        return item

    return clean(json.loads(json.dumps(value, cls=_Encoder)))


def _signal_fields(record: dict) -> dict:
    keep = ("candle_time", "stop", "target", "accumulate")
    return {name: record.get(name) for name in keep}


@transaction.atomic
def record_decision(
    *,
    config: StrategyConfig,
    symbol: str,
    candle_open_time: datetime,
    signal,
    fingerprint: str,
    inputs: dict | None = None,
    risk=None,
    exits: list | None = None,
    orders: list[str] | None = None,
    error: str = "",
) -> Decision:
    """Write what one evaluation saw and decided. `signal` is the engine's Signal,
    `risk` its RiskDecision (or None when nothing was sized): every rule's verdict
    and reason is kept, so a decision can be explained later."""
    if symbol not in config.symbols:
        raise ValidationError("symbol", f"{symbol} is not traded by this config")
    if candle_open_time.tzinfo is None:
        raise ValidationError("candle_open_time", "must be an aware UTC datetime")
    record = signal.as_record()
    decision = Decision.objects.create(
        account_id=config.account_id,
        strategy_config=config,
        symbol=symbol,
        interval=config.interval,
        candle_open_time=candle_open_time,
        strategy=signal.strategy,
        strategy_version=signal.version,
        params_fingerprint=fingerprint,
        inputs=_json({**(inputs or {}), "signal": _signal_fields(record)}),
        indicators=_json(record.get("indicators", {})),
        signal=str(signal.action),
        signal_reason=signal.reason,
        outcome="" if risk is None else risk.outcome.value,
        risk_verdict={} if risk is None else _json(risk.as_record()),
        exits=_json(exits or []),
        orders_placed=list(orders or []),
        error=error,
    )
    events.publish_decision(decision)
    alert_risk_triggers(decision)  # daily-loss and drawdown triggers (apps/monitoring)
    return decision
