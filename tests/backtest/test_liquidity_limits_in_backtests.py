"""Backtests have no order book: a risk profile's liquidity limits (`max_spread_bps`,
`max_slippage_bps`) must not refuse their entries, so the same run with and without
them trades the same."""

from decimal import Decimal as D

from apps.backtest.engine import run_backtest
from apps.risk.engine import RiskConfig
from apps.strategies.engine.signals import Action

from .support import Scripted, bars
from .test_scenarios import ROWS, settings


def test_liquidity_limits_do_not_refuse_backtest_entries():
    strategy = Scripted({1: (Action.ENTER_LONG, D(9), D(14)), 3: (Action.EXIT, None, None)})
    plain = run_backtest(strategy, bars(ROWS), settings(risk=RiskConfig()))
    strict = RiskConfig(max_spread_bps=D("0.01"), max_slippage_bps=D("0.01"))
    limited = run_backtest(strategy, bars(ROWS), settings(risk=strict))
    assert len(plain.trades) == 1
    assert limited.trades == plain.trades
    assert limited.final_equity == plain.final_equity
