"""Market orders of the cycle: quantized to the symbol's filters, written with a
deterministic client id before they are sent, and sent at most once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.exchange.filters import OrderIntent, OrderRefused, quantize_order

from .. import execution
from ..models import Order
from ..services import client_order_id, create_order


@dataclass(frozen=True)
class Placed:
    """One order the cycle tried: `order` is None when the filters refused it."""

    intent: str
    client_order_id: str
    order: Order | None = None
    refused: str = ""

    def as_record(self) -> dict:
        order = self.order
        return {
            "intent": self.intent,
            "client_order_id": self.client_order_id,
            "status": order.status if order else "not_sent",
            "quantity": str(order.quantity) if order else None,
            "executed": str(order.executed_quantity) if order else None,
            "refused": self.refused,
        }


def place_market(
    *,
    config,
    symbol: str,
    trigger: str,
    intent: str,
    side: str,
    quantity: Decimal,
    rules,
    reference_price: Decimal | None,
    gateway,
    position=None,
    n: int = 0,
) -> Placed:
    account = config.account
    cid = client_order_id(
        account_id=account.pk, config_id=config.pk, trigger=trigger, intent=intent, n=n
    )
    try:
        fitted = quantize_order(
            rules, OrderIntent(side, "MARKET", quantity), average_price=reference_price
        )
    except OrderRefused as refusal:
        return Placed(intent, cid, refused=f"{refusal.rule}: {refusal.reason}")
    order, _ = create_order(
        account=account,
        client_order_id=cid,
        symbol=symbol,
        intent=intent,
        order_type="MARKET",
        side=side,
        quantity=fitted.quantity,
        strategy_config=config,
        position=position,
    )
    # A redelivered cycle finds its order by client id: sent once, whatever happens.
    submission = execution.submit(order, gateway=gateway, query_first=True)
    refused = ""
    if submission.refused is not None:
        refused = f"{submission.refused.exchange_code}: {submission.refused}"
    return Placed(intent, cid, submission.order, refused)
