"""Pure Decimal quantization of an intended order to a symbol's exchangeInfo filters.

No I/O and no Django models: `SymbolRules.from_exchange_info` reads one symbol entry of
exchangeInfo, `quantize_order` returns an order Binance will accept or raises
`OrderRefused` with a reason a person can read. Rounding never works against the
order's owner: quantities round down to the step (never more than intended), a buy
price rounds down and a sell price up (never a worse price than intended).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.utils.translation import gettext

from apps.core.decimals import to_wire
from apps.core.errors import ValidationError

ZERO = Decimal(0)
BUY = "BUY"
SELL = "SELL"
MARKET_TYPES = frozenset({"MARKET"})
PRICED_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})


class OrderRefused(ValidationError):
    """The order cannot satisfy the symbol's filters; nothing was sent."""

    code = "order_refused"

    def __init__(self, rule: str, reason: str):
        super().__init__("order", rule, reason)
        self.reason = reason


@dataclass(frozen=True)
class PriceRule:
    min_price: Decimal = ZERO
    max_price: Decimal = ZERO  # 0: no maximum
    tick_size: Decimal = ZERO  # 0: any price


@dataclass(frozen=True)
class LotRule:
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    step_size: Decimal = ZERO


@dataclass(frozen=True)
class NotionalRule:
    min_notional: Decimal = ZERO
    max_notional: Decimal = ZERO
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False


@dataclass(frozen=True)
class PercentPriceRule:
    """Price bounds relative to the average price; bid and ask bounds may differ."""

    bid_up: Decimal
    bid_down: Decimal
    ask_up: Decimal
    ask_down: Decimal

    def bounds(self, side: str, average: Decimal) -> tuple[Decimal, Decimal]:
        if side == BUY:
            return average * self.bid_down, average * self.bid_up
        return average * self.ask_down, average * self.ask_up


@dataclass(frozen=True)
class SymbolRules:
    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    base_precision: int = 8
    order_types: frozenset[str] = field(default_factory=frozenset)
    oco_allowed: bool = True
    price: PriceRule = PriceRule()
    lot: LotRule = LotRule()
    market_lot: LotRule | None = None
    notional: NotionalRule | None = None
    percent_price: PercentPriceRule | None = None

    @classmethod
    def from_exchange_info(cls, entry: dict) -> SymbolRules:
        filters = {item["filterType"]: item for item in entry.get("filters", [])}

        def dec(item: dict, key: str) -> Decimal:
            return Decimal(str(item.get(key, "0")))

        price = PriceRule()
        if "PRICE_FILTER" in filters:
            item = filters["PRICE_FILTER"]
            price = PriceRule(dec(item, "minPrice"), dec(item, "maxPrice"), dec(item, "tickSize"))
        lot = LotRule()
        if "LOT_SIZE" in filters:
            item = filters["LOT_SIZE"]
            lot = LotRule(dec(item, "minQty"), dec(item, "maxQty"), dec(item, "stepSize"))
        market_lot = None
        if "MARKET_LOT_SIZE" in filters:
            item = filters["MARKET_LOT_SIZE"]
            market_lot = LotRule(dec(item, "minQty"), dec(item, "maxQty"), dec(item, "stepSize"))
        notional = None
        if "NOTIONAL" in filters:
            item = filters["NOTIONAL"]
            notional = NotionalRule(
                dec(item, "minNotional"),
                dec(item, "maxNotional"),
                bool(item.get("applyMinToMarket", True)),
                bool(item.get("applyMaxToMarket", False)),
            )
        elif "MIN_NOTIONAL" in filters:
            item = filters["MIN_NOTIONAL"]
            notional = NotionalRule(
                dec(item, "minNotional"), ZERO, bool(item.get("applyToMarket", True)), False
            )
        percent = None
        if "PERCENT_PRICE_BY_SIDE" in filters:
            item = filters["PERCENT_PRICE_BY_SIDE"]
            percent = PercentPriceRule(
                dec(item, "bidMultiplierUp"),
                dec(item, "bidMultiplierDown"),
                dec(item, "askMultiplierUp"),
                dec(item, "askMultiplierDown"),
            )
        elif "PERCENT_PRICE" in filters:
            item = filters["PERCENT_PRICE"]
            up, down = dec(item, "multiplierUp"), dec(item, "multiplierDown")
            percent = PercentPriceRule(up, down, up, down)
        return cls(
            symbol=entry["symbol"],
            base_asset=entry.get("baseAsset", ""),
            quote_asset=entry.get("quoteAsset", ""),
            status=entry.get("status", "TRADING"),
            base_precision=int(entry.get("baseAssetPrecision", 8)),
            order_types=frozenset(entry.get("orderTypes", [])),
            oco_allowed=bool(entry.get("ocoAllowed", True)),
            price=price,
            lot=lot,
            market_lot=market_lot,
            notional=notional,
            percent_price=percent,
        )


@dataclass(frozen=True)
class OrderIntent:
    """What the caller wants: side, type, quantity and (for priced types) price."""

    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None


@dataclass(frozen=True)
class QuantizedOrder:
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    notional: Decimal

    def wire_params(self) -> dict[str, str]:
        """The order's numeric parameters as Binance expects them (plain strings)."""
        params = {"quantity": to_wire(self.quantity)}
        if self.price is not None:
            params["price"] = to_wire(self.price)
        if self.stop_price is not None:
            params["stopPrice"] = to_wire(self.stop_price)
        return params


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def favourable_price(side: str, price: Decimal, tick: Decimal) -> Decimal:
    """A buyer never pays more, a seller never receives less, than intended."""
    return floor_to_step(price, tick) if side == BUY else ceil_to_step(price, tick)


def _refuse(rule: str, reason: str) -> OrderRefused:
    return OrderRefused(rule, reason)


def _check_price(rules: SymbolRules, price: Decimal, label: str) -> None:
    quote = rules.quote_asset
    if price <= 0:
        raise _refuse("price", gettext("The %(label)s must be above zero.") % {"label": label})
    if rules.price.min_price > 0 and price < rules.price.min_price:
        raise _refuse(
            "PRICE_FILTER",
            gettext("A %(label)s of %(price)s %(quote)s is below the minimum of %(min)s %(quote)s.")
            % {
                "label": label,
                "price": to_wire(price),
                "quote": quote,
                "min": to_wire(rules.price.min_price),
            },
        )
    if rules.price.max_price > 0 and price > rules.price.max_price:
        raise _refuse(
            "PRICE_FILTER",
            gettext("A %(label)s of %(price)s %(quote)s is above the maximum of %(max)s %(quote)s.")
            % {
                "label": label,
                "price": to_wire(price),
                "quote": quote,
                "max": to_wire(rules.price.max_price),
            },
        )


def _quantize_quantity(rules: SymbolRules, intent: OrderIntent) -> Decimal:
    lot = rules.lot
    if intent.order_type in MARKET_TYPES and rules.market_lot is not None:
        # MARKET_LOT_SIZE may leave fields at 0 ("use LOT_SIZE").
        market = rules.market_lot
        lot = LotRule(
            market.min_qty or lot.min_qty,
            market.max_qty or lot.max_qty,
            market.step_size or lot.step_size,
        )
    step = lot.step_size if lot.step_size > 0 else Decimal(1).scaleb(-rules.base_precision)
    quantity = floor_to_step(intent.quantity, step)
    base = rules.base_asset
    if quantity <= 0 or quantity < lot.min_qty:
        raise _refuse(
            "LOT_SIZE",
            gettext(
                "%(qty)s %(base)s is below the minimum order quantity of %(min)s %(base)s "
                "(step %(step)s)."
            )
            % {
                "qty": to_wire(intent.quantity),
                "base": base,
                "min": to_wire(lot.min_qty),
                "step": to_wire(step),
            },
        )
    if lot.max_qty > 0 and quantity > lot.max_qty:
        raise _refuse(
            "LOT_SIZE",
            gettext("%(qty)s %(base)s is above the maximum order quantity of %(max)s %(base)s.")
            % {"qty": to_wire(quantity), "base": base, "max": to_wire(lot.max_qty)},
        )
    return quantity


def quantize_order(
    rules: SymbolRules, intent: OrderIntent, *, average_price: Decimal | None = None
) -> QuantizedOrder:
    """Fit `intent` to `rules` or refuse it.

    `average_price` (the symbol's current average price) is needed for market orders'
    notional and for the percent-price filter; without it the percent-price check and
    a market order's notional check are skipped (Binance still enforces them).
    """
    side = intent.side.upper()
    order_type = intent.order_type.upper()
    if side not in (BUY, SELL):
        raise _refuse("side", gettext("The side must be BUY or SELL."))
    if rules.status != "TRADING":
        raise _refuse(
            "status",
            gettext("%(symbol)s is not trading (status %(status)s).")
            % {"symbol": rules.symbol, "status": rules.status},
        )
    if rules.order_types and order_type not in rules.order_types:
        raise _refuse(
            "orderTypes",
            gettext("%(symbol)s does not accept %(type)s orders.")
            % {"symbol": rules.symbol, "type": order_type},
        )
    quantity = _quantize_quantity(rules, intent)

    price = None
    if order_type in PRICED_TYPES:
        if intent.price is None:
            raise _refuse(
                "price", gettext("A %(type)s order needs a price.") % {"type": order_type}
            )
        if intent.price <= 0:
            raise _refuse("price", gettext("The price must be above zero."))
        price = favourable_price(side, intent.price, rules.price.tick_size)
        _check_price(rules, price, gettext("price"))
    stop_price = None
    if order_type in STOP_TYPES:
        if intent.stop_price is None or intent.stop_price <= 0:
            raise _refuse(
                "stopPrice", gettext("A %(type)s order needs a stop price.") % {"type": order_type}
            )
        stop_price = favourable_price(side, intent.stop_price, rules.price.tick_size)
        _check_price(rules, stop_price, gettext("stop price"))

    reference = price if price is not None else average_price
    if rules.percent_price is not None and price is not None:
        anchor = average_price
        if anchor is not None:
            low, high = rules.percent_price.bounds(side, anchor)
            if not (low <= price <= high):
                raise _refuse(
                    "PERCENT_PRICE",
                    gettext(
                        "A price of %(price)s %(quote)s is outside the allowed range "
                        "%(low)s to %(high)s %(quote)s around the average price %(avg)s."
                    )
                    % {
                        "price": to_wire(price),
                        "quote": rules.quote_asset,
                        "low": to_wire(low),
                        "high": to_wire(high),
                        "avg": to_wire(anchor),
                    },
                )

    notional = quantity * reference if reference is not None else ZERO
    _check_notional(rules, order_type, quantity, reference, notional)
    return QuantizedOrder(side, order_type, quantity, price, stop_price, notional)


def _check_notional(
    rules: SymbolRules, order_type: str, quantity: Decimal, reference, notional: Decimal
) -> None:
    rule = rules.notional
    if rule is None or reference is None:
        return
    is_market = order_type in MARKET_TYPES
    values = {
        "qty": to_wire(quantity),
        "base": rules.base_asset,
        "price": to_wire(reference),
        "notional": to_wire(notional),
        "quote": rules.quote_asset,
    }
    if (
        rule.min_notional > 0
        and notional < rule.min_notional
        and (rule.apply_min_to_market or not is_market)
    ):
        raise _refuse(
            "NOTIONAL",
            gettext(
                "%(qty)s %(base)s at %(price)s %(quote)s is %(notional)s %(quote)s, "
                "below the minimum notional of %(min)s %(quote)s."
            )
            % {**values, "min": to_wire(rule.min_notional)},
        )
    if (
        rule.max_notional > 0
        and notional > rule.max_notional
        and (rule.apply_max_to_market or not is_market)
    ):
        raise _refuse(
            "NOTIONAL",
            gettext(
                "%(qty)s %(base)s at %(price)s %(quote)s is %(notional)s %(quote)s, "
                "above the maximum notional of %(max)s %(quote)s."
            )
            % {**values, "max": to_wire(rule.max_notional)},
        )
