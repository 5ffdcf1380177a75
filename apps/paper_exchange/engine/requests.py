"""Validated order requests, as the HTTP layer hands them to the engine."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class OrderRequest:
    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trailing_delta: int | None = None
    time_in_force: str | None = None
    new_client_order_id: str | None = None
    resp_type: str | None = None
    stp_mode: str = "NONE"
    strategy_id: int | None = None
    strategy_type: int | None = None

    @property
    def response_type(self) -> str:
        if self.resp_type:
            return self.resp_type
        return "FULL" if self.type in ("MARKET", "LIMIT") else "ACK"


@dataclass
class OcoRequest:
    symbol: str
    side: str
    quantity: Decimal
    above: OrderRequest
    below: OrderRequest
    list_client_order_id: str | None = None
    resp_type: str | None = None
