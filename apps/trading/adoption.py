"""Finding the order row the exchange talks about, or adopting it as `external`.

Both the user-data stream and reconciliation meet orders Spotdesk never placed
(manual trades, another bot, a key shared by mistake). Such an order is recorded, not
ignored: `external=True` and no strategy config, so it attributes nothing and what it
buys stays in the unmanaged reserve.
"""

from __future__ import annotations

import logging

from django.db import transaction

from apps.audit.services import record_event
from apps.monitoring.metrics import RECONCILIATION_MISMATCHES

from .models import Order
from .reconcile_plan import (
    ExchangeOrder,
    adopted_client_id,
    adoption_intent,
    adoption_time_in_force,
)
from .services import create_order, transition_order

logger = logging.getLogger(__name__)


def find_order(account, exchange_order: ExchangeOrder) -> Order | None:
    """Our row for this exchange order: by exchange id first, then by client id (only
    a row not yet tied to another exchange order, since client ids are reused once
    an order has closed)."""
    rows = Order.objects.filter(account=account)
    if exchange_order.exchange_order_id is not None:
        found = rows.filter(
            symbol=exchange_order.symbol, exchange_order_id=exchange_order.exchange_order_id
        ).first()
        if found is not None:
            return found
    if exchange_order.client_order_id:
        found = rows.filter(client_order_id=exchange_order.client_order_id).first()
        if (
            found is not None
            and found.symbol == exchange_order.symbol
            and found.exchange_order_id in (None, exchange_order.exchange_order_id)
        ):
            return found
    return None


@transaction.atomic
def adopt_order(account, exchange_order: ExchangeOrder, *, source: str) -> Order | None:
    """Record an exchange order unknown to the database as `external` (idempotent: the
    same exchange order is adopted once). None when there is nothing to record (a
    quote-quantity market order that executed nothing has no quantity)."""
    existing = find_order(account, exchange_order)
    if existing is not None:
        return existing
    quantity = max(exchange_order.quantity, exchange_order.executed_quantity)
    if quantity <= 0:
        logger.info("not adopting order %s: no quantity", exchange_order.exchange_order_id)
        return None
    taken = Order.objects.filter(
        account=account, client_order_id=exchange_order.client_order_id
    ).exists()
    order, created = create_order(
        account=account,
        client_order_id=adopted_client_id(exchange_order, taken=taken),
        symbol=exchange_order.symbol,
        intent=adoption_intent(exchange_order),
        order_type=exchange_order.order_type,
        side=exchange_order.side,
        quantity=quantity,
        price=exchange_order.price,
        stop_price=exchange_order.stop_price,
        time_in_force=adoption_time_in_force(exchange_order),
        external=True,
    )
    if not created:
        return order
    order = transition_order(
        order=order,
        status=None,
        reason=f"adopted from {source}: placed outside Spotdesk",
        exchange_order_id=exchange_order.exchange_order_id,
        order_list_id=exchange_order.order_list_id,
    )
    record_event(
        action="trading.order.adopted",
        organization_id=account.organization_id,
        target=order,
        changes={
            "source": source,
            "symbol": order.symbol,
            "side": order.side,
            "type": order.order_type,
            "quantity": str(order.quantity),
            "exchange_order_id": order.exchange_order_id,
            "client_order_id": exchange_order.client_order_id,
        },
    )
    RECONCILIATION_MISMATCHES.labels(kind="order_adopted").inc()
    logger.info(
        "adopted external order",
        extra={"account_id": account.pk, "exchange_order_id": order.exchange_order_id},
    )
    return order


def find_or_adopt(account, exchange_order: ExchangeOrder, *, source: str) -> Order | None:
    return find_order(account, exchange_order) or adopt_order(
        account, exchange_order, source=source
    )
