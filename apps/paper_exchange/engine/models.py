"""What the engine keeps: accounts with balances, API keys, orders, fills and order lists.

Each record converts to and from plain JSON-able dicts (decimals as strings) for the
state file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal

from apps.paper_exchange.numbers import ZERO, fmt

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED", "PENDING_NEW"})
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
LIMIT_PRICED_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})


def _encode(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value


class Record:
    """Dataclass mixin: to/from dict with Decimal fields restored from strings."""

    def to_dict(self) -> dict:
        return {item.name: _encode(getattr(self, item.name)) for item in fields(self)}

    @classmethod
    def from_dict(cls, data: dict):
        values = {}
        for item in fields(cls):
            if item.name not in data:
                continue
            value = data[item.name]
            if item.type in ("Decimal", "Decimal | None") and value is not None:
                value = Decimal(value)
            values[item.name] = value
        return cls(**values)


@dataclass
class Balance(Record):
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass
class Account(Record):
    account_id: int
    balances: dict = field(default_factory=dict)  # asset -> Balance
    maker_commission: Decimal = Decimal("0.001")
    taker_commission: Decimal = Decimal("0.001")
    can_trade: bool = True
    update_time: int = 0

    def balance(self, asset: str) -> Balance:
        if asset not in self.balances:
            self.balances[asset] = Balance()
        return self.balances[asset]

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["balances"] = {asset: b.to_dict() for asset, b in self.balances.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Account:
        account = super().from_dict(data)
        account.balances = {
            asset: Balance.from_dict(item) for asset, item in data.get("balances", {}).items()
        }
        return account


@dataclass
class ApiKey(Record):
    api_key: str
    account_id: int
    key_type: str  # "HMAC_SHA256" or "ED25519"
    secret: str | None = None  # HMAC only
    public_key: str | None = None  # Ed25519 only (PEM)
    enable_reading: bool = True
    enable_spot_and_margin_trading: bool = True
    enable_withdrawals: bool = False
    enable_internal_transfer: bool = False
    permits_universal_transfer: bool = False
    enable_margin: bool = False
    enable_futures: bool = False
    ip_restrict: bool = False
    trading_authority_expiration_time: int = 0
    create_time: int = 0
    label: str = ""


@dataclass
class Order(Record):
    symbol: str
    order_id: int
    account_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str | None
    orig_qty: Decimal
    price: Decimal = ZERO
    stop_price: Decimal = ZERO
    trailing_delta: int | None = None
    quote_order_qty: Decimal = ZERO
    executed_qty: Decimal = ZERO
    cumm_quote: Decimal = ZERO
    # Exact (unrounded) quote value of the fills; charges telescope from its rounding.
    exact_quote: Decimal = ZERO
    status: str = "NEW"
    time: int = 0
    update_time: int = 0
    working_time: int = -1
    order_list_id: int = -1
    stp_mode: str = "NONE"
    strategy_id: int | None = None
    strategy_type: int | None = None
    locked: Decimal = ZERO  # still reserved: quote for a buy, base for a sell
    lock_asset: str = ""
    triggered: bool = False
    trail_active: bool = False
    trail_extreme: Decimal | None = None
    trailing_time: int = -1
    expiry_reason: str | None = None
    had_fill: bool = False
    sequence: int = 0  # price-time priority among resting orders

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_algo(self) -> bool:
        return self.type in STOP_TYPES

    @property
    def is_working(self) -> bool:
        """In the book (a limit order, or a stop limit order once triggered)."""
        if self.type in ("LIMIT", "LIMIT_MAKER"):
            return True
        return self.type in ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") and self.triggered

    def report(self) -> dict:
        """Fields shared by every order response (RESULT form)."""
        data = {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.orig_qty),
            "executedQty": fmt(self.executed_qty),
            "origQuoteOrderQty": fmt(self.quote_order_qty),
            "cummulativeQuoteQty": fmt(self.cumm_quote),
            "status": self.status,
            "timeInForce": self.time_in_force or "GTC",
            "type": self.type,
            "side": self.side,
        }
        if self.is_algo:
            data["stopPrice"] = fmt(self.stop_price)
        if self.trailing_delta is not None:
            data["trailingDelta"] = self.trailing_delta
            data["trailingTime"] = self.trailing_time
        if self.strategy_id is not None:
            data["strategyId"] = self.strategy_id
        if self.strategy_type is not None:
            data["strategyType"] = self.strategy_type
        if self.status == "EXPIRED" and self.expiry_reason:
            data["expiryReason"] = self.expiry_reason
        return data

    def query_view(self) -> dict:
        """GET /api/v3/order form."""
        data = self.report()
        data["stopPrice"] = fmt(self.stop_price)
        data["icebergQty"] = fmt(ZERO)
        data["time"] = self.time
        data["updateTime"] = self.update_time
        data["isWorking"] = self.working_time != -1
        data["workingTime"] = self.working_time
        data["selfTradePreventionMode"] = self.stp_mode
        return data


@dataclass
class Fill(Record):
    symbol: str
    trade_id: int
    order_id: int
    order_list_id: int
    account_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool

    def order_fill(self) -> dict:
        return {
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.trade_id,
        }

    def my_trade(self) -> dict:
        return {
            "symbol": self.symbol,
            "id": self.trade_id,
            "orderId": self.order_id,
            "orderListId": self.order_list_id,
            "price": fmt(self.price),
            "qty": fmt(self.qty),
            "quoteQty": fmt(self.quote_qty),
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": True,
        }


@dataclass
class OrderList(Record):
    order_list_id: int
    symbol: str
    account_id: int
    list_client_order_id: str
    order_ids: list = field(default_factory=list)
    contingency_type: str = "OCO"
    list_status_type: str = "EXEC_STARTED"
    list_order_status: str = "EXECUTING"
    transaction_time: int = 0

    @property
    def is_open(self) -> bool:
        return self.list_order_status == "EXECUTING"
