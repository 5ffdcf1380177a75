"""An accepted webhook signal, evaluated like a candle signal: the cycle's
`account_cycle.run_account` (trigger guard, account lock, exits, risk engine,
execution, one Decision) with a signal that came from outside instead of a strategy.

The trigger is `webhook:<nonce>`: redelivering the task evaluates it once, and its
orders get deterministic client ids. A signal left in the queue longer than
`TRADING_MAX_TRIGGER_AGE_SECONDS` is recorded as stale and never traded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from celery import shared_task

from apps.core.redis import get_redis
from apps.exchange.for_account import gateway_for_account
from apps.strategies.engine import Action, Signal
from apps.strategies.engine.candles import klines_to_array
from apps.strategies.models import StrategyConfig

from . import conf
from .cycle.account_cycle import Result, Trigger, run_account
from .cycle.signal import ATR_PERIOD, GroupSignal, _atr, load_klines, symbol_row

_ACTIONS = {"buy": Action.ENTER_LONG, "sell": Action.EXIT, "exit": Action.EXIT}


@dataclass(frozen=True)
class WebhookTrigger(Trigger):
    nonce: str = ""

    @property
    def id(self) -> str:
        return f"webhook:{self.nonce}"


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _atr_from_candles(environment: str, symbol: str, interval: str, now_ms: int):
    # For risk configs that size or trail by ATR when the sender gives no stop.
    klines, _ = load_klines(
        environment=environment,
        symbol=symbol,
        interval=interval,
        open_time_ms=now_ms,
        count=ATR_PERIOD + 1,
    )
    return _atr(klines_to_array(klines)) if klines else None


def webhook_group(config: StrategyConfig, signal: dict, received_ms: int) -> GroupSignal:
    """The signal in the shape the cycle evaluates. The price is the sender's reference
    price, else the exchange's current average price."""
    account = config.account
    action, reason = _ACTIONS[signal["action"]], f"webhook signal: {signal['action']}"
    price = _decimal(signal.get("price"))
    if price is None:
        try:
            price = Decimal(gateway_for_account(account).avg_price(signal["symbol"])["price"])
        except Exception as error:  # recorded as a decision that trades nothing
            action, reason = Action.ERROR, f"no price for the signal: {type(error).__name__}"
    engine_signal = Signal(
        action=action,
        reason=reason,
        strategy=config.strategy,
        version=config.strategy_version,
        symbol=signal["symbol"],
        interval=config.interval,
        candle_time=received_ms,
        stop=_decimal(signal.get("stop")),
        target=_decimal(signal.get("target")),
    )
    return GroupSignal(
        signal=engine_signal,
        fingerprint=config.build_strategy().fingerprint,
        close=price,
        high=price,
        close_time_ms=received_ms,
        atr=_atr_from_candles(account.environment, signal["symbol"], config.interval, received_ms),
        source="webhook",
    )


def evaluate_webhook_signal(
    *, config_id: int, nonce: str, signal: dict, received_ms: int, redis=None
) -> Result:
    config = StrategyConfig.objects.select_related("account").get(pk=config_id)
    environment = config.account.environment
    trigger = WebhookTrigger(
        environment, signal["symbol"], config.interval, received_ms, received_ms, nonce=nonce
    )
    return run_account(
        config_id=config_id,
        trigger=trigger,
        group=webhook_group(config, signal, received_ms),
        symbol_row=symbol_row(environment, signal["symbol"]),
        redis=redis or get_redis(),
    )


@shared_task(bind=True, acks_late=True, max_retries=5, ignore_result=True)
def evaluate_webhook_signal_task(
    self, config_id: int, nonce: str, signal: dict, received_ms: int
) -> str:
    """Queue `execution`: ids and plain values only; retried while the account is busy."""
    result = evaluate_webhook_signal(
        config_id=config_id, nonce=nonce, signal=signal, received_ms=received_ms
    )
    if result in (Result.BUSY, Result.FAILED) and self.request.retries < self.max_retries:
        raise self.retry(countdown=conf.cycle_busy_retry_seconds())
    return str(result)


def now_ms() -> int:
    return int(time.time() * 1000)
