"""Orders: deterministic client ids, creation before sending, and status changes that
obey the state machine."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.db import IntegrityError, transaction

from apps.accounts.models import ExchangeAccount
from apps.core.decimals import to_decimal
from apps.core.errors import ValidationError
from apps.strategies.models import StrategyConfig

from .. import events
from ..models import Intent, Order, OrderType, Position, Side
from ..states import can_transition, check_transition, from_exchange

_PRICED = {"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}
_STOPPED = {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}


def client_order_id(
    *, account_id: int, config_id: int, trigger: str, intent: str, n: int = 0
) -> str:
    """The same (account, config, trigger, intent, n) always gives the same id, so a
    retried cycle finds its earlier order instead of placing a second one. Binance
    allows 36 characters of [.A-Za-z0-9:/_-]."""
    digest = hashlib.sha256(f"{account_id}|{config_id}|{trigger}|{intent}|{n}".encode())
    return f"sd-{intent[:2]}-{digest.hexdigest()[:29]}"


def _positive(value, field: str) -> Decimal:
    value = to_decimal(value, field=field)
    if value <= 0:
        raise ValidationError(field, "must be greater than 0")
    return value


@transaction.atomic
def create_order(
    *,
    account: ExchangeAccount,
    client_order_id: str,
    symbol: str,
    intent: str,
    order_type: str,
    side: str,
    quantity,
    price=None,
    stop_price=None,
    time_in_force: str = "",
    strategy_config: StrategyConfig | None = None,
    position: Position | None = None,
    decision=None,
    external: bool = False,
) -> tuple[Order, bool]:
    """Record an order as `pending` before it is sent. Idempotent by client id:
    returns (order, created); an existing order with that id is returned unchanged."""
    existing = Order.objects.filter(account=account, client_order_id=client_order_id).first()
    if existing is not None:
        return existing, False
    if not client_order_id or len(client_order_id) > 36:
        raise ValidationError("client_order_id", "must be 1-36 characters")
    if intent not in Intent.values:
        raise ValidationError("intent", f"must be one of {', '.join(Intent.values)}")
    if order_type not in OrderType.values:
        raise ValidationError("order_type", f"must be one of {', '.join(OrderType.values)}")
    if side not in Side.values:
        raise ValidationError("side", "must be BUY or SELL")
    quantity = _positive(quantity, "quantity")
    price = None if price is None else _positive(price, "price")
    stop_price = None if stop_price is None else _positive(stop_price, "stop_price")
    if order_type in _PRICED and price is None:
        raise ValidationError("price", f"is required for {order_type} orders")
    if order_type in _STOPPED and stop_price is None:
        raise ValidationError("stop_price", f"is required for {order_type} orders")
    if strategy_config is not None and strategy_config.account_id != account.pk:
        raise ValidationError("strategy_config", "must belong to the same account")
    if position is not None and position.account_id != account.pk:
        raise ValidationError("position", "must belong to the same account")
    try:
        with transaction.atomic():
            order = Order.objects.create(
                account=account,
                client_order_id=client_order_id,
                symbol=symbol.upper(),
                intent=intent,
                order_type=order_type,
                side=side,
                quantity=quantity,
                price=price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                strategy_config=strategy_config,
                position=position,
                decision=decision,
                external=external,
            )
    except IntegrityError:  # created concurrently by a duplicate of this task
        return Order.objects.get(account=account, client_order_id=client_order_id), False
    events.publish_order(order)
    return order, True


@transaction.atomic
def transition_order(
    *,
    order: Order,
    status: str | None,
    reason: str = "",
    exchange_order_id: int | None = None,
    order_list_id: int | None = None,
    update_ms: int | None = None,
) -> Order:
    """Move an order to `status` if the state machine allows it (IllegalTransition
    otherwise). Setting the status it already has is a no-op; `status=None` keeps the
    current one (to record ids or a reason on a row another process may be moving)."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if status is not None and status != order.status:
        check_transition(order.status, status)
        order.status = status
    if reason:
        order.status_reason = reason[:255]
    if exchange_order_id is not None:
        order.exchange_order_id = exchange_order_id
    if order_list_id is not None:
        order.order_list_id = order_list_id
    if update_ms is not None:
        order.exchange_updated_ms = max(update_ms, order.exchange_updated_ms or 0)
    order.save()
    events.publish_order(order)
    return order


@transaction.atomic
def apply_exchange_status(
    *, order: Order, exchange_status: str, update_ms: int, exchange_order_id: int | None = None
) -> bool:
    """An execution report or query result. Events older than the last one applied are
    ignored (streams and REST answers can arrive out of order); a status the machine
    forbids flags the order for review instead of being forced. Returns True if applied."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.exchange_updated_ms is not None and update_ms < order.exchange_updated_ms:
        return False
    status = from_exchange(exchange_status)
    if status != order.status and not can_transition(order.status, status):
        _flag(order, f"exchange says {status} after {order.status}")
        order.save(update_fields=["needs_review", "review_reason", "updated_at"])
        return False
    order.status = status
    order.exchange_updated_ms = update_ms
    if exchange_order_id is not None:
        order.exchange_order_id = exchange_order_id
    order.save()
    events.publish_order(order)
    return True


def _flag(order: Order, reason: str) -> None:
    order.needs_review = True
    order.review_reason = reason[:255]


@transaction.atomic
def flag_for_review(*, order: Order, reason: str) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    _flag(order, reason)
    order.save(update_fields=["needs_review", "review_reason", "updated_at"])
    events.publish_order(order)
    return order
