"""Portfolio backtests: one account's cash over several symbols, limits acting across them."""

from dataclasses import replace
from decimal import Decimal as D

import numpy as np
import pytest

from apps.backtest.engine import BacktestSettings, FillModel, MarketRules, run_backtest
from apps.backtest.engine import synthetic_candles as synthetic
from apps.backtest.engine.portfolio import run_portfolio
from apps.risk.engine import RiskConfig
from apps.strategies.engine import registry

HOUR = 3_600_000
LOOSE = RiskConfig(
    max_open_positions=5, max_drawdown=D("0.9"), daily_loss_limit_pct=None,
    max_trades_per_day=None, cooldown_after_losses=None, min_reward_risk=D("0.1"),
    max_portfolio_heat=D("0.5"), max_position_pct=D("0.5"), correlation_cap=D("1"),
    sector_caps={},
)  # fmt: skip


def settings(symbol, risk=None):
    return BacktestSettings(
        symbol=symbol, interval="1h", initial_cash=D(10_000), fill=FillModel(),
        market=MarketRules(step_size=D("0.0001"), min_notional=D(5), base_asset=symbol[:3],
                          quote_asset="USDT"),
        risk=risk,
    )  # fmt: skip


def series(seed, n=3000, scale=1.0):
    bars = synthetic(n, seed=seed, start_price=100.0, volatility=0.01, interval_ms=HOUR)
    for f in ("open", "high", "low", "close"):
        bars[f] *= scale
    return bars


def overlaps(trades) -> int:
    """Pairs of trades of different symbols holding at the same time."""
    count = 0
    for a in trades:
        for b in trades:
            if a.symbol < b.symbol and a.entry_ms < b.exit_ms and b.entry_ms < a.exit_ms:
                count += 1
    return count


STRATEGY = registry.create("trend_following", {"fast": 8, "slow": 21, "adx_min": 10.0})


@pytest.mark.parametrize("risk", [None, LOOSE])
def test_one_symbol_is_the_single_symbol_backtest(risk):
    bars = series(1)
    single = run_backtest(STRATEGY, bars, settings("AAAUSDT", risk))
    portfolio = run_portfolio(
        STRATEGY, {"AAAUSDT": bars}, {"AAAUSDT": settings("AAAUSDT", risk)},
        initial_cash=D(10_000),
    )  # fmt: skip
    assert len(single.trades) > 3
    assert [(t.entry_bar, t.exit_bar, t.pnl) for t in portfolio.trades] == [
        (t.entry_bar, t.exit_bar, t.pnl) for t in single.trades
    ]
    assert portfolio.final_equity == single.final_equity
    assert np.allclose(portfolio.equity, single.equity, rtol=1e-12)
    assert portfolio.metrics.max_drawdown == pytest.approx(single.metrics.max_drawdown)


def _two(risk, b_scale=None, b_seed=2):
    a = series(1)
    b = series(1, scale=b_scale) if b_scale else series(b_seed)
    return run_portfolio(
        STRATEGY, {"AAAUSDT": a, "BBBUSDT": b},
        {"AAAUSDT": settings("AAAUSDT", risk), "BBBUSDT": settings("BBBUSDT", risk)},
        initial_cash=D(10_000),
    )  # fmt: skip


def test_cash_is_shared_and_equity_adds_up():
    result = _two(LOOSE)
    assert overlaps(result.trades) > 0  # both symbols held at once
    assert result.final_cash >= 0
    assert result.final_equity == pytest.approx(result.final_cash, rel=0) or result.exposure[-1]
    pnl = sum((t.pnl for t in result.trades), D(0))
    if not result.exposure[-1]:
        assert result.final_cash == pytest.approx(D(10_000) + pnl, abs=D("1e-12"))


def test_the_open_positions_limit_acts_across_symbols():
    free = _two(LOOSE)
    capped = _two(replace(LOOSE, max_open_positions=1))
    assert overlaps(free.trades) > 0
    assert overlaps(capped.trades) == 0
    assert capped.rejected > free.rejected


def test_the_correlation_cap_refuses_a_copy_of_a_held_symbol():
    # B is A at twice the price: perfectly correlated returns.
    free = _two(LOOSE, b_scale=2.0)
    capped = _two(replace(LOOSE, correlation_cap=D("0.5")), b_scale=2.0)
    assert overlaps(free.trades) > 0
    assert overlaps(capped.trades) == 0
    assert capped.rejected > 0


def test_all_in_entries_cannot_spend_the_same_cash_twice():
    result = _two(None)
    assert result.final_cash >= 0
    assert overlaps(result.trades) == 0  # the first entry takes all the cash
    assert any("below the symbol's minimums" in why for _, why in result.refused)


def test_the_account_starts_from_the_portfolios_cash_not_each_symbols_settings():
    # Each symbol's settings say 10,000; the account has 1,000.
    result = run_portfolio(
        STRATEGY, {"AAAUSDT": series(1), "BBBUSDT": series(2)},
        {"AAAUSDT": settings("AAAUSDT"), "BBBUSDT": settings("BBBUSDT")},
        initial_cash=D(1_000),
    )  # fmt: skip
    first = min(result.trades, key=lambda t: t.entry_ms)
    assert D(990) < first.invested <= D(1_000)  # all-in: the account's cash
    assert result.equity[0] == 1_000.0
