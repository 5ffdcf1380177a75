"""The risk engine's correlation cap acts live: an account that holds ETHUSDT is refused
a BTCUSDT entry whose returns move with ETH's over the trailing window, while an
account whose profile allows that correlation enters on the same candle."""

import random
from decimal import Decimal

import pytest

from apps.exchange.for_account import gateway_for_account
from apps.risk.services import create_risk_profile
from apps.strategies.models import StrategyConfig
from apps.trading.cycle.correlations import WINDOW, returns_correlation
from apps.trading.cycle.group import run_group
from apps.trading.models import Decision, Order, Position

from .support import (
    MINUTE_MS,
    enabled_config,
    kline,
    last_closed_open_ms,
    market_price,
    store_klines,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
D = Decimal


def _walk(price: Decimal, returns: list[float], last_open_ms: int) -> list[list]:
    """Candles following `returns`, then a breakout on ten times the volume that closes
    at `price` (the market), so the entry's stop sits below where it fills."""
    growth = D(1)
    for change in returns:
        growth *= 1 + D(repr(change))
    rows, close = [], price / (growth * D("1.02"))
    first = last_open_ms - len(returns) * MINUTE_MS
    for i, change in enumerate(returns):
        opened, close = close, close * (1 + D(repr(change)))
        high, low = max(opened, close) * D("1.0002"), min(opened, close) * D("0.9998")
        rows.append(kline(first + i * MINUTE_MS, opened, high, low, close, "10"))
    breakout = close * D("1.02")
    rows.append(kline(last_open_ms, close, breakout * D("1.001"), close, breakout, "100"))
    return rows


def _with_profile(config, cap: str):
    profile = create_risk_profile(
        name=f"cap {cap} {config.pk}",
        preset="balanced",
        overrides={"correlation_cap": D(cap), "correlation_action": "reject",
                   "max_open_positions": 5},
    )  # fmt: skip
    StrategyConfig.objects.filter(pk=config.pk).update(risk_profile=profile)


def _group(symbol, configs, open_ms):
    return run_group(
        environment="paper", symbol=symbol, interval="1m", open_time_ms=open_ms,
        config_ids=[c.pk for c in configs],
    )  # fmt: skip


def test_an_entry_correlated_with_a_held_symbol_is_refused_by_the_cap(paper_account):
    capped = paper_account({"USDT": "10000"})
    allowed = paper_account({"USDT": "10000"})
    eth = [enabled_config(a, symbols=("ETHUSDT",)) for a in (capped, allowed)]
    btc = [enabled_config(a) for a in (capped, allowed)]
    _with_profile(btc[0], "0.5")
    _with_profile(btc[1], "1")
    gateway = gateway_for_account(capped)
    rng = random.Random(17)
    returns = [rng.uniform(-0.002, 0.002) for _ in range(WINDOW + 10)]

    # Both accounts enter ETHUSDT first, on a breakout after the shared walk.
    eth_open = last_closed_open_ms() - MINUTE_MS
    store_klines("paper", "ETHUSDT", "1m",
                 _walk(market_price(gateway, "ETHUSDT"), returns, eth_open))  # fmt: skip
    _group("ETHUSDT", eth, eth_open)
    for account in (capped, allowed):
        assert Position.objects.filter(account=account, symbol="ETHUSDT", status="open").exists()

    # BTCUSDT walks the same returns, a minute later: perfectly correlated with ETH.
    btc_open = eth_open + MINUTE_MS
    store_klines("paper", "BTCUSDT", "1m",
                 _walk(market_price(gateway), [*returns[1:], 0.0], btc_open))  # fmt: skip
    _group("BTCUSDT", btc, btc_open)

    refused = Decision.objects.get(strategy_config=btc[0])
    assert refused.signal == "enter_long"
    verdict = next(v for v in refused.risk_verdict["verdicts"] if v["rule"] == "correlation")
    assert verdict["passed"] is False
    assert "ETHUSDT" in verdict["reason"]
    assert not Order.objects.filter(strategy_config=btc[0]).exists()

    entered = Decision.objects.get(strategy_config=btc[1])
    verdict = next(v for v in entered.risk_verdict["verdicts"] if v["rule"] == "correlation")
    assert verdict["passed"] is True
    assert Order.objects.filter(strategy_config=btc[1], intent="entry").exists()


def test_returns_correlation_aligns_by_open_time_and_ignores_flat_series():
    rng = random.Random(3)
    closes, price = {}, 100.0
    for t in range(0, 60 * MINUTE_MS, MINUTE_MS):
        price *= 1 + rng.uniform(-0.01, 0.01)
        closes[t] = price
    shifted = {t: 2 * c for t, c in closes.items() if t % (7 * MINUTE_MS)}  # gaps
    assert returns_correlation(closes, shifted) == pytest.approx(1.0, abs=0.2)
    inverse = {t: 1 / c for t, c in closes.items()}
    assert returns_correlation(closes, inverse) == pytest.approx(-1.0, abs=1e-3)
    assert returns_correlation(closes, {t: 5.0 for t in closes}) is None
    assert returns_correlation(closes, {0: 1.0, MINUTE_MS: 2.0}) is None
