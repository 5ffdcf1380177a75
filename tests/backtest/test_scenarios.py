"""Hand-computed backtests: fills, fees, stops and targets, filters, dust."""

from decimal import Decimal as D

import pytest

from apps.backtest.engine import BacktestSettings, FillModel, MarketRules, run_backtest
from apps.strategies.engine.signals import Action

from .support import Scripted, bars

ENTER, EXIT = Action.ENTER_LONG, Action.EXIT
ROWS = [
    (10, 10, 10, 10),
    (10, 10, 10, 10),  # 1: enter at the close
    (10, 10.5, 9.8, 10.2),  # 2: bought at the open, 10
    (11, 12, 10.9, 11.5),  # 3: exit at the close
    (12, 12.2, 11.8, 12),  # 4: sold at the open, 12
    (12, 12, 12, 12),
]


def settings(**kw):
    base = {
        "symbol": "TESTUSDT",
        "interval": "1m",
        "initial_cash": D(1000),
        "fill": FillModel(commission=D("0.001")),
        "market": MarketRules(step_size=D("0.001"), quote_asset="USDT", base_asset="TEST"),
    }
    base.update(kw)
    return BacktestSettings(**base)


def test_round_trip_next_open_with_commission():
    strategy = Scripted({1: (ENTER, None, None), 3: (EXIT, None, None)})
    result = run_backtest(strategy, bars(ROWS), settings())
    # 1000 / (10 x 1.001) = 99.9000999 -> 99.9 at step 0.001; cost 999 + fee 0.999.
    # Sold 99.9 at 12: 1198.8 - fee 1.1988.
    (trade,) = result.trades
    assert (trade.entry_bar, trade.exit_bar) == (2, 4)
    assert trade.quantity == D("99.900")
    assert trade.entry_price == 10
    assert trade.exit_price == 12
    assert trade.fees == D("0.999") + D("1.1988")
    assert trade.pnl == D("1198.8") - D("1.1988") - D("999") - D("0.999")
    assert result.final_cash == D("1000") - D("999.999") + D("1198.8") - D("1.1988")
    assert result.final_equity == result.final_cash
    assert result.final_quantity == 0
    assert result.fees == trade.fees
    assert result.equity[2] == pytest.approx(0.001 + 99.9 * 10.2)
    assert result.metrics.trades == 1
    assert result.metrics.win_rate == 1.0
    assert list(result.exposure) == [False, False, True, True, False, False]


def test_slippage_and_tick_work_against_the_trader():
    strategy = Scripted({1: (ENTER, None, None), 3: (EXIT, None, None)})
    fill = FillModel(commission=D(0), slippage=D("0.01"), tick_size=D("0.1"))
    (trade,) = run_backtest(strategy, bars(ROWS), settings(fill=fill)).trades
    assert trade.entry_price == D("10.1")  # 10.1 exactly on the tick
    assert trade.exit_price == D("11.8")  # 12 x 0.99 = 11.88, down to the tick


@pytest.mark.parametrize(
    ("bar", "expected_exit", "why"),
    [
        ((10, 11.5, 8.5, 10), D(9), "stop"),  # touches both: stop first
        ((8.8, 11.5, 8.5, 10), D("8.8"), "stop"),  # gap below the stop: at the open
        ((10, 11.5, 9.5, 10), D(11), "target"),
        ((11.4, 11.5, 11.2, 11.3), D("11.4"), "target"),  # gap above: at the open
    ],
)
def test_intrabar_stop_first_and_gaps(bar, expected_exit, why):
    rows = [*ROWS[:2], (10, 10.2, 9.9, 10), bar, (10, 10, 10, 10)]
    strategy = Scripted({1: (ENTER, 9.0, 11.0)})
    fill = FillModel(mode="intrabar", commission=D(0))
    result = run_backtest(strategy, bars(rows), settings(fill=fill))
    (trade,) = result.trades
    assert trade.exit_bar == 3
    assert trade.exit_price == expected_exit
    assert trade.exit_reason.startswith(why)


def test_stop_can_fill_on_the_entry_bar():
    rows = [*ROWS[:2], (10, 10.2, 8.9, 9.5), (9.5, 9.5, 9.5, 9.5)]
    fill = FillModel(mode="intrabar", commission=D(0))
    result = run_backtest(Scripted({1: (ENTER, 9.0, None)}), bars(rows), settings(fill=fill))
    (trade,) = result.trades
    assert (trade.entry_bar, trade.exit_bar, trade.exit_price) == (2, 2, D(9))


def test_next_open_mode_ignores_intrabar_touches():
    rows = [*ROWS[:2], (10, 11.5, 8.5, 10), (10, 10, 10, 10)]
    result = run_backtest(Scripted({1: (ENTER, 9.0, 11.0)}), bars(rows), settings())
    assert result.trades == []
    assert result.final_quantity == D("99.900")


def test_min_notional_refuses_the_entry_and_changes_nothing():
    market = MarketRules(step_size=D("0.001"), min_notional=D(5000))
    strategy = Scripted({1: (ENTER, None, None), 3: (EXIT, None, None)})
    result = run_backtest(strategy, bars(ROWS), settings(market=market))
    assert result.trades == []
    assert result.final_cash == D(1000)
    assert len(result.refused) == 1


def test_step_leaves_cash_and_a_position_below_minimums_is_dust():
    # Whole units only: 1000 / 10.01 = 99.9 -> 99 units.
    market = MarketRules(step_size=D(1), min_notional=D(1))
    strategy = Scripted({1: (ENTER, None, None), 3: (EXIT, None, None)})
    (trade,) = run_backtest(strategy, bars(ROWS), settings(market=market)).trades
    assert trade.quantity == 99
    assert market.is_dust(D("0.5"), D(1))
    assert not market.is_dust(D(2), D(1))
    assert market.market_quantity(D("2.7"), D(1)) == 2
