"""The liquidity limits act live: the cycle reads the order-book summary the streams
process publishes (here written from the paper exchange's real book, as the streams
would write it) and the risk engine refuses an entry when the spread is wider than the
profile allows, or when no fresh summary exists; a profile that allows it enters."""

import time
from decimal import Decimal

import pytest

from apps.core.redis import get_redis
from apps.exchange.for_account import gateway_for_account
from apps.marketdata.liquidity import LiquidityStore, summarise
from apps.risk.services import create_risk_profile
from apps.strategies.models import StrategyConfig
from apps.trading.cycle.group import run_group
from apps.trading.models import Decision, Order

from .support import (
    breakout_klines,
    enabled_config,
    last_closed_open_ms,
    market_price,
    store_klines,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
D = Decimal


def publish_book(gateway, symbol: str = "BTCUSDT") -> dict:
    """The exchange's current book, summarised and stored the way the streams do."""
    depth = gateway.depth(symbol, limit=1000)
    summary = summarise(
        symbol,
        {D(p): D(q) for p, q in depth["bids"]},
        {D(p): D(q) for p, q in depth["asks"]},
        time_ms=gateway.exchange_now_ms(),
        levels=50,
        published_at=time.time(),
    )
    LiquidityStore(get_redis(), "paper").write([summary])
    return summary


def with_limits(config, **limits):
    profile = create_risk_profile(
        name=f"liquidity {config.pk}", preset="balanced", overrides=limits
    )
    StrategyConfig.objects.filter(pk=config.pk).update(risk_profile=profile)


def breakout_for(paper_account, n: int):
    configs = [enabled_config(paper_account({"USDT": "10000"})) for _ in range(n)]
    gateway = gateway_for_account(configs[0].account)
    open_ms = last_closed_open_ms()
    store_klines("paper", "BTCUSDT", "1m", breakout_klines(market_price(gateway), open_ms))
    return configs, open_ms, gateway


def run(configs, open_ms):
    return run_group(
        environment="paper", symbol="BTCUSDT", interval="1m", open_time_ms=open_ms,
        config_ids=[c.pk for c in configs],
    )  # fmt: skip


def verdict(config, rule):
    decision = Decision.objects.get(strategy_config=config)
    return decision, next(v for v in decision.risk_verdict["verdicts"] if v["rule"] == rule)


def test_a_spread_wider_than_the_profile_allows_refuses_the_entry(paper_account):
    (tight, loose), open_ms, gateway = breakout_for(paper_account, 2)
    summary = publish_book(gateway)
    spread = D(summary["spread_bps"])
    assert spread > 0
    with_limits(tight, max_spread_bps=(spread / 2).quantize(D("0.01")) or D("0.01"))
    with_limits(loose, max_spread_bps=D(10_000), max_slippage_bps=D(10_000))

    run([tight, loose], open_ms)

    refused, rule = verdict(tight, "max_spread_bps")
    assert refused.signal == "enter_long"
    assert refused.outcome == "rejected"
    assert rule["passed"] is False
    assert f"spread {spread:.2f} bps" in rule["reason"]
    assert not Order.objects.filter(strategy_config=tight).exists()

    entered, rule = verdict(loose, "max_spread_bps")
    assert rule["passed"] is True
    assert entered.outcome in ("approved", "resized")
    _, slippage = verdict(loose, "max_slippage_bps")
    assert slippage["passed"] is True
    assert "from the mid" in slippage["reason"]
    assert Order.objects.filter(strategy_config=loose, intent="entry").exists()


def test_no_fresh_order_book_refuses_an_entry_the_limits_watch(paper_account):
    (watched, unwatched), open_ms, _ = breakout_for(paper_account, 2)
    LiquidityStore(get_redis(), "paper").forget(["BTCUSDT"])
    with_limits(watched, max_slippage_bps=D(10_000))

    run([watched, unwatched], open_ms)

    refused, rule = verdict(watched, "max_slippage_bps")
    assert refused.outcome == "rejected"
    assert rule["reason"] == "no fresh order book for BTCUSDT"
    assert not Order.objects.filter(strategy_config=watched).exists()
    # Without limits the book is not needed (and not read).
    assert Order.objects.filter(strategy_config=unwatched, intent="entry").exists()
