"""Applying a fill: idempotent by (account, symbol, exchange trade id).

The fill is stored, attributed to the open position of its order's (account,
strategy config, symbol), and the position is recomputed from all of its fills by
the pure accounting engine, so a position always equals the sum of its attributed
fills. Orders placed outside Spotdesk (`external`, no config) attribute to nothing:
what they buy is the unmanaged reserve.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from apps.core.decimals import to_decimal
from apps.core.errors import ValidationError
from apps.marketdata.models import Symbol
from apps.marketdata.times import ms_to_datetime
from apps.monitoring.trading_metrics import record_fill
from apps.strategies.models import StrategyConfig

from .. import events
from ..accounting import AccountingError, FillEvent, OversellError, PositionBook
from ..accounting import apply_fill as book_fill
from ..accounting.ledger import close_if_done
from ..models import Fill, Order, Position, Trade
from ..states import TERMINAL, OrderStatus, can_transition

ZERO = Decimal(0)
PLACES = Decimal("1e-18")


@dataclass(frozen=True)
class FillInput:
    """One trade of an order, as the exchange reported it (strings or Decimals)."""

    exchange_trade_id: int
    side: str
    price: object
    quantity: object
    time_ms: int
    commission: object = "0"
    commission_asset: str = ""
    quote_quantity: object = None
    commission_rate: object = None  # quote per unit of a third-asset commission
    quote_rate: object = "1"  # valuation currency per unit of quote at that time
    is_maker: bool = False
    source: str = "stream"


def _event(fill: FillInput, symbol: Symbol) -> FillEvent:
    try:
        return FillEvent(
            side=fill.side,
            price=to_decimal(fill.price, field="price"),
            quantity=to_decimal(fill.quantity, field="quantity"),
            base_asset=symbol.base_asset,
            quote_asset=symbol.quote_asset,
            commission=to_decimal(fill.commission, field="commission"),
            commission_asset=fill.commission_asset,
            commission_rate=None
            if fill.commission_rate is None
            else to_decimal(fill.commission_rate, field="commission_rate"),
            quote_rate=to_decimal(fill.quote_rate, field="quote_rate"),
            trade_id=int(fill.exchange_trade_id),
            time_ms=int(fill.time_ms),
        )
    except AccountingError as exc:
        raise ValidationError(exc.field, exc.rule) from None


def _stored_event(record: Fill, symbol: Symbol) -> FillEvent:
    rate = record.commission_quote / record.commission if record.commission else None
    return FillEvent(
        side=record.side,
        price=record.price,
        quantity=record.quantity,
        base_asset=symbol.base_asset,
        quote_asset=symbol.quote_asset,
        commission=record.commission,
        commission_asset=record.commission_asset,
        commission_rate=rate,
        quote_rate=record.quote_rate,
        trade_id=record.exchange_trade_id,
    )


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES)


@transaction.atomic
def apply_fill(*, order: Order, fill: FillInput) -> tuple[Fill, bool]:
    """Book one fill of `order`; returns (fill, created). A fill already booked is
    returned unchanged, whichever source (stream, REST, reconciliation) saw it first."""
    order = Order.objects.select_for_update().select_related("account").get(pk=order.pk)
    trade_id = int(fill.exchange_trade_id)
    existing = Fill.objects.filter(
        account_id=order.account_id, symbol=order.symbol, exchange_trade_id=trade_id
    ).first()
    if existing is not None:
        return existing, False
    if fill.side != order.side:
        raise ValidationError("side", f"must match the order's side ({order.side})")
    symbol = Symbol.objects.filter(environment=order.account.environment, name=order.symbol).first()
    if symbol is None:
        raise ValidationError("symbol", f"{order.symbol} is unknown: sync exchangeInfo first")
    event = _event(fill, symbol)
    quote_quantity = (
        event.gross
        if fill.quote_quantity is None
        else to_decimal(fill.quote_quantity, field="quote_quantity")
    )
    executed_at = ms_to_datetime(event.time_ms)
    position = _position_for(order, symbol, executed_at) if _managed(order) else None
    record = Fill.objects.create(
        account_id=order.account_id,
        order=order,
        position=position,
        symbol=order.symbol,
        side=event.side,
        exchange_trade_id=trade_id,
        price=event.price,
        quantity=event.quantity,
        quote_quantity=quote_quantity,
        commission=event.commission,
        commission_asset=event.commission_asset,
        commission_quote=_round(event.fee_in_quote),
        quote_rate=event.quote_rate,
        is_maker=fill.is_maker,
        executed_at=executed_at,
        source=fill.source[:16],
    )
    completes = _advance_order(order, event.quantity, quote_quantity)
    if position is None and _managed(order):
        _review(order, "a sell with no open position of its strategy config")
    elif position is not None:
        try:
            _rebook(position, symbol, close_dust=completes)
        except OversellError as exc:
            # Never let a position go negative (that would sell the reserve): keep the
            # fill as a fact, unattributed, for a person to explain.
            Fill.objects.filter(pk=record.pk).update(position=None)
            record.position = None
            _review(order, f"fill {trade_id} oversells its position: {exc.rule}")
    order.save()
    events.publish_fill(record)
    record_fill(record)  # metrics, anomaly windows, opt-in notification (after commit)
    return record, True


def _managed(order: Order) -> bool:
    return order.strategy_config_id is not None and not order.external


def _position_for(order: Order, symbol: Symbol, executed_at) -> Position | None:
    # Lock the config: two fills of one config never create two open positions.
    StrategyConfig.objects.select_for_update().filter(pk=order.strategy_config_id).first()
    key = {
        "account_id": order.account_id,
        "strategy_config_id": order.strategy_config_id,
        "symbol": order.symbol,
    }
    position = Position.objects.select_for_update().filter(**key, status="open").first()
    if position is not None or order.side != "BUY":
        return position
    previous = Position.objects.filter(**key, status="closed").order_by("-closed_at", "-pk").first()
    carried_quantity = previous.dust_quantity if previous else ZERO
    carried_cost = previous.dust_cost if previous else ZERO
    return Position.objects.create(
        **key,
        base_asset=symbol.base_asset,
        quote_asset=symbol.quote_asset,
        status=Position.Status.OPEN,
        quantity=carried_quantity,
        cost_basis=carried_cost,
        carried_quantity=carried_quantity,
        carried_cost=carried_cost,
        opened_at=executed_at,
    )


def _rebook(position: Position, symbol: Symbol, *, close_dust: bool) -> None:
    """Recompute the position from its fills (in execution order)."""
    records = list(position.fills.order_by("executed_at", "exchange_trade_id"))
    book = PositionBook.opening(
        carried_quantity=position.carried_quantity, carried_cost=position.carried_cost
    )
    for record in records:
        book = book_fill(book, _stored_event(record, symbol))
    last = records[-1]
    done = None
    if last.side == "SELL":
        # Dust only once the selling order is complete: a partial fill's remainder is
        # still on its way out.
        done = close_if_done(
            book, price=last.price, min_notional=symbol.min_notional if close_dust else ZERO
        )
    position.quantity = book.quantity
    position.cost_basis = _round(book.cost)
    position.average_entry_price = _round(book.average_price)
    position.realized_pnl = _round(book.realized_pnl)
    position.realized_pnl_value = _round(book.realized_value)
    position.fees_paid = _round(book.fees)
    position.bought_quantity = book.bought
    position.sold_quantity = book.sold
    position.original_quantity = _entry_quantity(records, symbol) or book.first_buy_quantity
    position.highest_price = max(position.highest_price or ZERO, book.highest_price)
    if done is not None:
        position.dust_quantity, dust_cost = done
        position.dust_cost = _round(dust_cost)
        position.quantity = ZERO
        position.cost_basis = ZERO
        position.status = Position.Status.CLOSED
        position.closed_at = last.executed_at
        _record_trade(position, book, closed_at=last.executed_at)
    position.save()


def _entry_quantity(records: list[Fill], symbol: Symbol) -> Decimal:
    """The base the position's first buy ORDER delivered, over all of its fills (a
    market entry often fills in pieces): what the ladder's fractions are of."""
    first = next((r.order_id for r in records if r.side == "BUY"), None)
    return sum(
        (
            r.quantity - (r.commission if r.commission_asset == symbol.base_asset else ZERO)
            for r in records
            if r.order_id == first
        ),
        ZERO,
    )


def _record_trade(position: Position, book: PositionBook, *, closed_at) -> None:
    bought = book.bought + book.carried_quantity
    Trade.objects.create(
        account_id=position.account_id,
        strategy_config_id=position.strategy_config_id,
        position=position,
        symbol=position.symbol,
        quantity=bought,
        entry_price=_round((book.bought_value + book.carried_cost) / bought),
        exit_price=_round(book.sold_value / book.sold) if book.sold else ZERO,
        fees=_round(book.fees),
        realized_pnl=_round(book.realized_pnl),
        realized_pnl_value=_round(book.realized_value),
        return_pct=(book.realized_pnl / book.invested).quantize(Decimal("1e-10"))
        if book.invested
        else ZERO,
        opened_at=position.opened_at,
        closed_at=closed_at,
    )


def _advance_order(order: Order, quantity: Decimal, quote_quantity: Decimal) -> bool:
    """Add a fill to the order's totals; True once the order is completely filled."""
    executed = order.executed_quantity + quantity
    if executed > order.quantity:
        _review(order, f"fills total {executed}, more than the order's {order.quantity}")
        executed = order.quantity
    order.executed_quantity = executed
    order.cumulative_quote_quantity += quote_quantity
    target = OrderStatus.FILLED if executed >= order.quantity else OrderStatus.PARTIALLY_FILLED
    # A late fill of a canceled or expired order is booked but does not reopen it.
    if order.status not in TERMINAL and can_transition(order.status, target):
        order.status = target
    return executed >= order.quantity


def _review(order: Order, reason: str) -> None:
    order.needs_review = True
    order.review_reason = reason[:255]
