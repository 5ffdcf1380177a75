"""One position's book: fills in, quantity / cost / realized PnL out (average cost).

Commission rules follow Binance: a commission in the base asset reduces the base
received; one in the quote asset or a third asset (BNB) is a cost valued in the quote
asset at the fill time's price (`commission_rate` = quote per unit of that asset).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, localcontext

ZERO = Decimal(0)
ONE = Decimal(1)
BUY = "BUY"
SELL = "SELL"
# Enough digits that no sum of Binance amounts (8 places, < 1e12) ever rounds.
PRECISION = 60


class AccountingError(ValueError):
    """A fill that cannot be booked; names the field and the rule."""

    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class OversellError(AccountingError):
    """A sell larger than the position: it would touch the unmanaged reserve."""


@dataclass(frozen=True, slots=True)
class FillEvent:
    side: str
    price: Decimal
    quantity: Decimal
    base_asset: str
    quote_asset: str
    commission: Decimal = ZERO
    commission_asset: str = ""
    commission_rate: Decimal | None = None  # quote per unit of a third commission asset
    quote_rate: Decimal = ONE  # valuation currency per unit of quote, at the fill time
    trade_id: int = 0
    time_ms: int = 0

    def __post_init__(self) -> None:
        if self.side not in (BUY, SELL):
            raise AccountingError("side", "must be BUY or SELL")
        for name in ("price", "quantity"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise AccountingError(name, "must be a positive Decimal")
        if not isinstance(self.commission, Decimal) or self.commission < 0:
            raise AccountingError("commission", "must be a Decimal of at least 0")

    @property
    def gross(self) -> Decimal:
        return self.price * self.quantity

    @property
    def base_fee(self) -> Decimal:
        return self.commission if self.commission_asset == self.base_asset else ZERO

    @property
    def fee_in_quote(self) -> Decimal:
        """The commission valued in the quote asset at this fill's prices."""
        if not self.commission:
            return ZERO
        if self.commission_asset == self.quote_asset:
            return self.commission
        if self.commission_asset == self.base_asset:
            return self.commission * self.price
        if self.commission_rate is None or self.commission_rate < 0:
            raise AccountingError(
                "commission_rate",
                f"needed to value a commission in {self.commission_asset or 'an unnamed asset'}",
            )
        return self.commission * self.commission_rate

    @property
    def cash_fee(self) -> Decimal:
        """The part of the fee paid outside the base asset (quote or third asset)."""
        return ZERO if self.base_fee else self.fee_in_quote


@dataclass(frozen=True, slots=True)
class PositionBook:
    quantity: Decimal = ZERO  # base held
    cost: Decimal = ZERO  # quote spent on what is held, fees included
    realized_pnl: Decimal = ZERO  # quote
    realized_value: Decimal = ZERO  # valuation currency, at each sale's rate
    fees: Decimal = ZERO  # quote value of every commission
    bought: Decimal = ZERO  # base quantity of buy fills (before base fees)
    sold: Decimal = ZERO
    bought_value: Decimal = ZERO  # sum of price x quantity of buys
    sold_value: Decimal = ZERO
    carried_quantity: Decimal = ZERO  # dust merged in when the position opened
    carried_cost: Decimal = ZERO
    invested: Decimal = ZERO  # everything spent on buys (fees included): a return's base
    fills: int = 0
    first_buy_quantity: Decimal = ZERO
    highest_price: Decimal = ZERO
    opened_ms: int = 0
    last_ms: int = 0

    @property
    def average_price(self) -> Decimal:
        if not self.quantity:
            return ZERO
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.cost / self.quantity

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @classmethod
    def opening(cls, *, carried_quantity=ZERO, carried_cost=ZERO) -> PositionBook:
        return cls(
            quantity=carried_quantity,
            cost=carried_cost,
            carried_quantity=carried_quantity,
            carried_cost=carried_cost,
            invested=carried_cost,
        )


def apply_fill(book: PositionBook, fill: FillEvent) -> PositionBook:
    """The book after one fill; raises OversellError rather than going below zero."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        fee = fill.fee_in_quote
        common = {
            "fees": book.fees + fee,
            "fills": book.fills + 1,
            "last_ms": fill.time_ms,
            "opened_ms": fill.time_ms if book.fills == 0 else book.opened_ms,
        }
        if fill.side == BUY:
            received = fill.quantity - fill.base_fee
            if received <= 0:
                raise AccountingError("commission", "a buy's base commission exceeds its quantity")
            return replace(
                book,
                quantity=book.quantity + received,
                cost=book.cost + fill.gross + fill.cash_fee,
                invested=book.invested + fill.gross + fill.cash_fee,
                bought=book.bought + fill.quantity,
                bought_value=book.bought_value + fill.gross,
                first_buy_quantity=book.first_buy_quantity or received,
                highest_price=max(book.highest_price, fill.price),
                **common,
            )
        leaving = fill.quantity + fill.base_fee
        if leaving > book.quantity:
            raise OversellError(
                "quantity", f"sells {leaving} but the position holds {book.quantity}"
            )
        # The last sale releases exactly the remaining cost: no rounding residue.
        released = book.cost if leaving == book.quantity else book.cost * leaving / book.quantity
        gain = fill.gross - fill.cash_fee - released
        return replace(
            book,
            quantity=book.quantity - leaving,
            cost=book.cost - released,
            realized_pnl=book.realized_pnl + gain,
            realized_value=book.realized_value + gain * fill.quote_rate,
            sold=book.sold + fill.quantity,
            sold_value=book.sold_value + fill.gross,
            highest_price=max(book.highest_price, fill.price),
            **common,
        )
