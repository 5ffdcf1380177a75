"""Account endpoints: account, myTrades, rateLimit/order, sapi apiRestrictions."""

from __future__ import annotations

from apps.paper_exchange import errors
from apps.paper_exchange.marketdata.bars import DAY
from apps.paper_exchange.numbers import fmt
from apps.paper_exchange.server.endpoint import Context, Endpoint, route


def _bips(rate) -> int:
    return int(rate * 10000)


def account_info(context: Context) -> dict:
    account = context.account
    omit_zero = context.params.boolean("omitZeroBalances")
    balances = []
    for asset, balance in sorted(account.balances.items()):
        if omit_zero and balance.free == 0 and balance.locked == 0:
            continue
        balances.append({"asset": asset, "free": fmt(balance.free), "locked": fmt(balance.locked)})
    key = context.key
    return {
        "makerCommission": _bips(account.maker_commission),
        "takerCommission": _bips(account.taker_commission),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt(account.maker_commission),
            "taker": fmt(account.taker_commission),
            "buyer": fmt(0),
            "seller": fmt(0),
        },
        "canTrade": account.can_trade and key.enable_spot_and_margin_trading,
        "canWithdraw": key.enable_withdrawals,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": account.update_time,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": account.account_id,
    }


def my_trades(context: Context) -> list:
    spec = context.symbol()
    params = context.params
    limit = params.limit(500, 1000)
    order_id = params.integer("orderId")
    from_id = params.integer("fromId")
    start = params.integer("startTime")
    end = params.integer("endTime")
    if start is not None and end is not None and end - start > DAY:
        raise errors.lookup_interval_too_big(24)
    if from_id is not None and (start is not None or end is not None):
        raise errors.ApiError(-1128, "Combination of optional parameters invalid.")
    fills = context.exchange.store.fills[(context.account.account_id, spec.symbol)]
    if order_id is not None:
        fills = [fill for fill in fills if fill.order_id == order_id]
    if from_id is not None:
        fills = [fill for fill in fills if fill.trade_id >= from_id][:limit]
    elif start is not None or end is not None:
        fills = [
            fill
            for fill in fills
            if (start is None or fill.time >= start) and (end is None or fill.time <= end)
        ]
        fills = fills[:limit] if start is not None else fills[-limit:]
    else:
        fills = fills[-limit:]
    return [fill.my_trade() for fill in fills]


def commission_rates(context: Context) -> dict:
    spec = context.symbol()
    account = context.account
    zero = fmt(0)
    no_rates = {"maker": zero, "taker": zero, "buyer": zero, "seller": zero}
    return {
        "symbol": spec.symbol,
        "standardCommission": {
            "maker": fmt(account.maker_commission),
            "taker": fmt(account.taker_commission),
            "buyer": zero,
            "seller": zero,
        },
        "specialCommission": dict(no_rates),
        "taxCommission": dict(no_rates),
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": zero,
        },
    }


def order_rate_limit(context: Context) -> list:
    counts = context.exchange.limiter.order_counts(context.account.account_id)
    return [
        {**window.exchange_info("ORDERS", limit), "count": count} for window, limit, count in counts
    ]


def api_restrictions(context: Context) -> dict:
    key = context.key
    data = {
        "ipRestrict": key.ip_restrict,
        "createTime": key.create_time,
        "enableReading": key.enable_reading,
        "enableWithdrawals": key.enable_withdrawals,
        "enableInternalTransfer": key.enable_internal_transfer,
        "permitsUniversalTransfer": key.permits_universal_transfer,
        "enableMargin": key.enable_margin,
        "enableFutures": key.enable_futures,
        "enableSpotAndMarginTrading": key.enable_spot_and_margin_trading,
        "enableVanillaOptions": False,
        "enablePortfolioMarginTrading": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
    }
    if key.trading_authority_expiration_time:
        # Production sends it for trading keys without an IP restriction.
        data["tradingAuthorityExpirationTime"] = key.trading_authority_expiration_time
    return data


def _my_trades_weight(params) -> int:
    return 5 if "orderId" in params else 20


def routes() -> list:
    table: list = []
    user = dict(security="USER_DATA")
    route(table, "GET", "/api/v3/account", Endpoint(account_info, weight=20, **user))
    route(table, "GET", "/api/v3/myTrades", Endpoint(my_trades, weight=_my_trades_weight, **user))
    route(table, "GET", "/api/v3/rateLimit/order", Endpoint(order_rate_limit, weight=40, **user))
    route(table, "GET", "/api/v3/account/commission", Endpoint(commission_rates, weight=20, **user))
    route(
        table,
        "GET",
        "/sapi/v1/account/apiRestrictions",
        Endpoint(api_restrictions, weight=1, **user),
    )
    return table
