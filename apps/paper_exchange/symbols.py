"""Symbol definitions: trading rules as exchangeInfo publishes them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from apps.paper_exchange.numbers import fmt

ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]
STP_MODES = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"]


@dataclass
class SymbolSpec:
    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    min_price: Decimal | None = None
    max_price: Decimal = Decimal("1000000")
    min_qty: Decimal | None = None
    max_qty: Decimal = Decimal("9000")
    market_max_qty: Decimal = Decimal("100")
    max_notional: Decimal = Decimal("9000000")
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False
    avg_price_mins: int = 5
    bid_multiplier_up: Decimal = Decimal("5")
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal("5")
    ask_multiplier_down: Decimal = Decimal("0.2")
    max_num_orders: int = 200
    max_num_algo_orders: int = 5
    min_trailing_delta: int = 10
    max_trailing_delta: int = 2000
    status: str = "TRADING"
    # Older symbols publish the legacy MIN_NOTIONAL filter instead of NOTIONAL.
    legacy_min_notional: bool = False
    # Where prices come from: "synthetic", or a description of the replayed file.
    source: str = "synthetic"
    reference_price: Decimal | None = None
    annual_volatility: float = 0.6
    minute_volume: Decimal = Decimal("10")
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.min_price is None:
            self.min_price = self.tick_size
        if self.min_qty is None:
            self.min_qty = self.step_size

    @property
    def is_trading(self) -> bool:
        return self.status == "TRADING"

    def filters(self) -> list[dict]:
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(self.min_price),
                "maxPrice": fmt(self.max_price),
                "tickSize": fmt(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(self.min_qty),
                "maxQty": fmt(self.max_qty),
                "stepSize": fmt(self.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(Decimal(0)),
                "maxQty": fmt(self.market_max_qty),
                "stepSize": fmt(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": self.min_trailing_delta,
                "maxTrailingAboveDelta": self.max_trailing_delta,
                "minTrailingBelowDelta": self.min_trailing_delta,
                "maxTrailingBelowDelta": self.max_trailing_delta,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": str(self.bid_multiplier_up),
                "bidMultiplierDown": str(self.bid_multiplier_down),
                "askMultiplierUp": str(self.ask_multiplier_up),
                "askMultiplierDown": str(self.ask_multiplier_down),
                "avgPriceMins": self.avg_price_mins,
            },
            self._notional_filter(),
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": self.max_num_algo_orders},
        ]

    def _notional_filter(self) -> dict:
        if self.legacy_min_notional:
            return {
                "filterType": "MIN_NOTIONAL",
                "minNotional": fmt(self.min_notional),
                "applyToMarket": self.apply_min_to_market,
                "avgPriceMins": self.avg_price_mins,
            }
        return {
            "filterType": "NOTIONAL",
            "minNotional": fmt(self.min_notional),
            "applyMinToMarket": self.apply_min_to_market,
            "maxNotional": fmt(self.max_notional),
            "applyMaxToMarket": self.apply_max_to_market,
            "avgPriceMins": self.avg_price_mins,
        }

    def exchange_info(self, show_permission_sets: bool = True) -> dict:
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(ORDER_TYPES),
            "icebergAllowed": False,
            "ocoAllowed": True,
            "otoAllowed": False,
            "opoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": False,
            "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": self.filters(),
            "permissions": [],
            "permissionSets": [["SPOT"]] if show_permission_sets else [],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": list(STP_MODES),
        }


# Rules Binance publishes for the generated symbols, with price levels of late 2026.
DEFAULT_SYNTHETIC = {
    "BTCUSDT": dict(
        base="BTC",
        quote="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.00001"),
        min_notional=Decimal("5"),
        reference_price=Decimal("95000"),
        annual_volatility=0.55,
        minute_volume=Decimal("12"),
        market_max_qty=Decimal("120"),
    ),
    "ETHUSDT": dict(
        base="ETH",
        quote="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.0001"),
        min_notional=Decimal("5"),
        reference_price=Decimal("3400"),
        annual_volatility=0.7,
        minute_volume=Decimal("250"),
        market_max_qty=Decimal("3000"),
    ),
    "BNBUSDT": dict(
        base="BNB",
        quote="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.001"),
        min_notional=Decimal("5"),
        reference_price=Decimal("650"),
        annual_volatility=0.5,
        minute_volume=Decimal("80"),
        market_max_qty=Decimal("5000"),
    ),
}

# Quote assets recognised when splitting a symbol name from a data file.
KNOWN_QUOTES = ("USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB", "EUR", "TRY")


def split_symbol(symbol: str) -> tuple[str, str]:
    for quote in KNOWN_QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    raise ValueError(f"cannot tell base and quote assets apart in {symbol!r}")


def synthetic_spec(symbol: str, price: Decimal | None = None) -> SymbolSpec:
    if symbol in DEFAULT_SYNTHETIC:
        options = dict(DEFAULT_SYNTHETIC[symbol])
        if price is not None:
            options["reference_price"] = price
        return SymbolSpec(symbol=symbol, **options)
    base, quote = split_symbol(symbol)
    return spec_for_price(symbol, base, quote, price or Decimal("100"), source="synthetic")


def spec_for_price(
    symbol: str, base: str, quote: str, price: Decimal, source: str, **overrides
) -> SymbolSpec:
    """Rules for a symbol known only by its price level: about six significant digits of
    price and a step that keeps price * quantity on the 8-decimal grid of balances."""
    magnitude = math.floor(math.log10(float(price))) if price > 0 else 0
    tick = max(Decimal(1).scaleb(magnitude - 5), Decimal("0.00000001"))
    step = max(Decimal("0.00000001") / tick, Decimal("0.00001"))
    step = Decimal(1).scaleb(round(math.log10(float(step))))
    quote_min = {"BTC": Decimal("0.0001"), "ETH": Decimal("0.001"), "BNB": Decimal("0.01")}
    options = dict(
        tick_size=tick.normalize(),
        step_size=step.normalize(),
        min_notional=quote_min.get(quote, Decimal("5")),
        reference_price=price,
        max_qty=Decimal("90000000"),
        market_max_qty=Decimal("9000000"),
        max_price=Decimal("1000000"),
    )
    options.update(overrides)
    return SymbolSpec(symbol=symbol, base=base, quote=quote, source=source, **options)
