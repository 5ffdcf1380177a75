"""Test data for the trading core: real models through real services."""

import itertools
from decimal import Decimal

from apps.accounts.actors import Actor
from apps.accounts.models import AccountStatus, ExchangeAccount
from apps.marketdata.services import sync_symbols
from apps.strategies import services as strategy_services
from apps.trading.services import FillInput, apply_fill, create_order
from tests.accounts.factories import make_account, make_org

D = Decimal
_ids = itertools.count(1)


def exchange_info(*entries) -> dict:
    return {"symbols": list(entries)}


def symbol_entry(name, base, quote, *, step="0.00001", tick="0.01", min_notional="5"):
    return {
        "symbol": name,
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": quote,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000",
                "tickSize": tick,
            },
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000", "stepSize": step},
            {"filterType": "NOTIONAL", "minNotional": min_notional, "applyMinToMarket": True},
        ],
    }


def sync_default_symbols(environment="paper"):
    sync_symbols(
        environment=environment,
        exchange_info=exchange_info(
            symbol_entry("BTCUSDT", "BTC", "USDT"),
            symbol_entry("ETHUSDT", "ETH", "USDT"),
            symbol_entry("ETHBTC", "ETH", "BTC", step="0.0001", tick="0.00001",
                         min_notional="0.0001"),
        ),
    )  # fmt: skip


def active_account(organization=None, **kwargs) -> ExchangeAccount:
    account = make_account(organization or make_org(), **kwargs)
    ExchangeAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE)
    account.refresh_from_db()
    return account


def make_config(account, *, name=None, symbols=("BTCUSDT",), strategy="trend_following",
                params=None, interval="1h", risk_profile=None):  # fmt: skip
    return strategy_services.create_strategy_config(
        actor=Actor.for_system(),
        account=account,
        name=name or f"config {next(_ids)}",
        strategy=strategy,
        symbols=list(symbols),
        interval=interval,
        params=params or {},
        risk_profile=risk_profile,
    )


def order_for(config, *, side="BUY", quantity="1", intent="entry", symbol="BTCUSDT", **kwargs):
    order, _ = create_order(
        account=config.account,
        strategy_config=config,
        client_order_id=f"test-{next(_ids)}",
        symbol=symbol,
        intent=intent,
        order_type="MARKET",
        side=side,
        quantity=D(quantity),
        **kwargs,
    )
    return order


def fill(order, *, price, quantity, commission="0", asset="USDT", trade_id=None, time_ms=None,
         rate=None, quote_rate="1"):  # fmt: skip
    trade_id = trade_id if trade_id is not None else next(_ids)
    return apply_fill(
        order=order,
        fill=FillInput(
            exchange_trade_id=trade_id,
            side=order.side,
            price=str(price),
            quantity=str(quantity),
            commission=str(commission),
            commission_asset=asset,
            commission_rate=rate,
            quote_rate=quote_rate,
            time_ms=time_ms if time_ms is not None else 1_700_000_000_000 + trade_id * 1000,
        ),
    )
