"""Portfolio runs that visit only the times where something can happen give exactly
the result of visiting every time (``Portfolio.run`` against ``run_every_time``)."""

import math
from decimal import Decimal as D

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.backtest.engine import BacktestSettings, FillModel, MarketRules, SmaCross
from apps.backtest.engine import synthetic_candles as synthetic
from apps.backtest.engine.portfolio import Portfolio
from apps.backtest.engine.portfolioskip import peak_over_span
from apps.risk.engine import RiskConfig
from apps.risk.engine.config import ExitConfig
from apps.strategies.engine import registry

HOUR = 3_600_000
START = 1_600_000_000_000


class Recording(Portfolio):
    """Keeps every account state the risk engine is shown, and the wallet's equity
    after every visited time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []
        self.visited_equity = set()

    def account_state(self, **kwargs):
        state = super().account_state(**kwargs)
        self.seen.append((self.k, kwargs["sleeve"].s.symbol, state))
        return state

    def _visit(self, k, bars):
        super()._visit(k, bars)
        self.visited_equity.add(self.wallet.equity)


def both(strategy, candles, configs, cash=D(10_000)):
    fast = Recording(strategy, candles, configs, initial_cash=cash)
    reference = Recording(strategy, candles, configs, initial_cash=cash)
    return fast, fast.run(), reference, reference.run_every_time()


def assert_same(fast, reference):
    assert fast.trades == reference.trades
    # Equal and printed the same: what is stored and exported.
    for name in ("final_cash", "final_equity", "fees"):
        assert str(getattr(fast, name)) == str(getattr(reference, name)), name
    assert [str(t.pnl) for t in fast.trades] == [str(t.pnl) for t in reference.trades]
    assert np.array_equal(fast.open_time, reference.open_time)
    assert np.array_equal(fast.equity, reference.equity)
    assert np.array_equal(fast.exposure, reference.exposure)
    assert fast.refused == reference.refused
    assert fast.rejected == reference.rejected
    assert fast.evaluated_bars == reference.evaluated_bars
    mine, theirs = fast.metrics.as_dict(), reference.metrics.as_dict()
    assert mine.keys() == theirs.keys()
    for name, value in mine.items():
        other = theirs[name]
        both_nan = isinstance(value, float) and math.isnan(value) and math.isnan(other)
        assert both_nan or value == other, name


# --- random portfolios ---------------------------------------------------------------


def _series(rng, layout: str, index: int) -> np.ndarray:
    """One symbol's candles: aligned hours, shifted starts, gaps, or a half-hour
    interval beside hourly ones."""
    n = int(rng.integers(250, 600))
    interval = HOUR // 2 if layout == "mixed" and index % 2 else HOUR
    start = START
    if layout in ("shifted", "gaps", "mixed"):
        start += int(rng.integers(0, 48)) * HOUR // 2 + index * 15 * 60_000
    bars = synthetic(
        n,
        seed=int(rng.integers(0, 2**31)),
        start_price=float(rng.choice([0.5, 30.0, 100.0, 2_000.0])),
        volatility=float(rng.uniform(0.004, 0.02)),
        interval_ms=interval,
        start_ms=start,
    )
    if layout == "gaps":
        bars = bars[rng.random(n) > 0.1]
    return bars


def _strategy(rng, key: str):
    if key == "sma_cross":
        fast = int(rng.integers(2, 8))
        return SmaCross({"fast": fast, "slow": fast + int(rng.integers(2, 20))})
    if key == "trend_following":
        fast = int(rng.integers(3, 12))
        return registry.create(
            key,
            {
                "fast": fast,
                "slow": fast + int(rng.integers(3, 20)),
                "adx_min": float(rng.uniform(0, 25)),
                "atr_stop": float(rng.uniform(0.5, 4)),
                "reward_risk": float(rng.uniform(0.8, 4)),
            },
        )
    if key == "breakout":
        exit_period = int(rng.integers(3, 12))
        return registry.create(
            key,
            {
                "entry_period": exit_period + int(rng.integers(1, 20)),
                "exit_period": exit_period,
                "volume_factor": float(rng.uniform(0, 1.5)),
            },
        )
    if key == "mean_reversion":
        return registry.create(
            key, {"bb_period": int(rng.integers(5, 30)), "oversold": 40.0, "overbought": 60.0}
        )
    return registry.create(key, {"every_hours": int(rng.integers(6, 48)), "max_premium": 1.0})


def _risk(rng) -> RiskConfig:
    pick = lambda *options: options[int(rng.integers(len(options)))]  # noqa: E731
    exits = ExitConfig(
        time_exit_hours=pick(None, 6, 48),
        pyramid_max_additions=pick(0, 2),
        trailing_enabled=pick(True, False),
        breakeven_enabled=pick(True, False),
    )
    return RiskConfig(
        sizing_method=pick("fixed_fractional", "volatility", "kelly"),
        risk_per_trade=pick(D("0.005"), D("0.02")),
        max_position_pct=pick(D("0.1"), D("0.3"), D("0.6")),
        max_open_positions=pick(1, 2, 4),
        sector_caps={},
        correlation_cap=pick(D("0.2"), D("0.6"), D("1")),
        correlation_action=pick("reject", "scale"),
        max_portfolio_heat=pick(D("0.01"), D("0.04"), D("0.5")),
        min_reward_risk=pick(D("0.1"), D("1")),
        daily_loss_limit_pct=pick(None, D("0.002"), D("0.01")),
        max_trades_per_day=pick(None, 2, 6),
        cooldown_after_losses=pick(None, 2),
        max_drawdown=pick(D("0.01"), D("0.04"), D("0.9")),
        drawdown_mode=pick("halt", "reduce_only"),
        exits=exits,
    )


def _settings(symbol, rng, risk, mode, manage_exits) -> BacktestSettings:
    if mode == "per_symbol":
        mode = str(rng.choice(["next_open", "intrabar"]))
    return BacktestSettings(
        symbol=symbol,
        interval="1h",
        initial_cash=D(10_000),
        fill=FillModel(
            mode=mode,
            commission=D(str(rng.choice(["0", "0.001"]))),
            slippage=D(str(rng.choice(["0", "0.0005"]))),
        ),
        market=MarketRules(
            step_size=D(str(rng.choice(["0.0001", "0.01", "1"]))),
            min_notional=D(str(rng.choice(["0", "5", "200"]))),
            base_asset=symbol[:3],
            quote_asset="USDT",
        ),
        risk=risk,
        manage_exits=manage_exits,
    )


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(2, 4),
    layout=st.sampled_from(["aligned", "shifted", "gaps", "mixed"]),
    key=st.sampled_from(["trend_following", "sma_cross", "breakout", "mean_reversion", "dca"]),
    with_risk=st.booleans(),
    manage_exits=st.booleans(),
    mode=st.sampled_from(["next_open", "intrabar", "per_symbol"]),
    cash=st.sampled_from([D(300), D(10_000), D(1_000_000)]),
)
def test_skipping_times_gives_the_every_time_result(
    seed, count, layout, key, with_risk, manage_exits, mode, cash
):
    rng = np.random.default_rng(seed)
    strategy = _strategy(rng, key)
    risk = _risk(rng) if with_risk else None
    symbols = [f"{chr(65 + i) * 3}USDT" for i in range(count)]
    candles = {s: _series(rng, layout, i) for i, s in enumerate(symbols)}
    configs = {s: _settings(s, rng, risk, mode, manage_exits) for s in symbols}
    fast_run, fast, reference_run, reference = both(strategy, candles, configs, cash)
    assert_same(fast, reference)
    # The risk engine saw the same account at the same decisions, printed the same.
    assert fast_run.seen == reference_run.seen
    assert repr(fast_run.seen) == repr(reference_run.seen)
    assert reference.visited_bars == reference.open_time.size
    assert fast.visited_bars <= reference.visited_bars


# --- what skipped times change -------------------------------------------------------


def _drawdown_portfolio(**limits):
    symbols = ("AAAUSDT", "BBBUSDT", "CCCUSDT")
    candles = {
        s: synthetic(2_000, seed=30 + i, volatility=0.01, interval_ms=HOUR, start_ms=START)
        for i, s in enumerate(symbols)
    }
    risk = RiskConfig(
        max_open_positions=3, sector_caps={}, correlation_cap=D("1"),
        max_portfolio_heat=D("0.5"), max_position_pct=D("0.4"), min_reward_risk=D("0.1"),
        max_trades_per_day=None, cooldown_after_losses=None, **limits,
    )  # fmt: skip
    configs = {
        s: BacktestSettings(
            symbol=s, interval="1h", initial_cash=D(10_000), fill=FillModel(mode="intrabar"),
            market=MarketRules(step_size=D("0.0001"), base_asset=s[:3], quote_asset="USDT"),
            risk=risk, manage_exits=False,
        )
        for s in symbols
    }  # fmt: skip
    strategy = registry.create("trend_following", {"fast": 8, "slow": 21, "adx_min": 10.0})
    return both(strategy, candles, configs)


def test_the_peak_and_day_starts_of_skipped_times_reach_the_risk_engine():
    fast_run, fast, reference_run, reference = _drawdown_portfolio(
        max_drawdown=D("0.03"), daily_loss_limit_pct=D("0.004")
    )
    assert_same(fast, reference)
    assert fast_run.seen == reference_run.seen
    assert fast.rejected > 0  # the limits acted
    # Some peaks and day starts the risk engine read were equities of skipped times.
    peaks = {state.peak_equity for _, _, state in fast_run.seen}
    starts = {state.day_start_equity for _, _, state in fast_run.seen}
    assert peaks - fast_run.visited_equity - {D(10_000)}
    assert starts - fast_run.visited_equity - {D(10_000)}
    assert fast.visited_bars < fast.open_time.size / 2


def test_an_all_in_portfolio_visits_signal_and_fill_times_only():
    symbols = ("AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT")
    candles = {
        s: synthetic(3_000, seed=i + 1, interval_ms=HOUR, start_ms=START + i * HOUR // 4)
        for i, s in enumerate(symbols)
    }
    configs = {s: BacktestSettings(symbol=s, interval="1h") for s in symbols}
    fast_run, fast, _, reference = both(SmaCross({"fast": 10, "slow": 30}), candles, configs)
    assert_same(fast, reference)
    assert len(fast.trades) > 20
    signal_times = sum(len(s.enter_bars) + len(s.exit_bars) for s in fast_run.sleeves)
    assert fast.visited_bars <= signal_times + len(fast.trades) * 2 + 1
    assert fast.visited_bars < reference.visited_bars / 10


def test_the_peak_of_a_span_is_the_running_maximum_of_its_decimal_equities():
    rng = np.random.default_rng(5)
    marks = [np.round(rng.uniform(90, 110, 60), 1), np.full(60, 3.0)]
    marks[0][10:40] = 110.0  # a flat top: many equal maxima, the first one stays
    cash, held = D("12.5"), [D("0.3"), D("7")]
    holdings = list(zip(held, marks, strict=True))

    def equity_at(t):
        return cash + held[0] * D(repr(float(marks[0][t]))) + held[1] * D(repr(float(marks[1][t])))

    for peak in (D(0), D("50.00"), D("60.5"), D(1_000)):
        expected = peak
        for t in range(5, 55):
            expected = max(expected, equity_at(t))
        found = peak_over_span(peak, cash, holdings, equity_at, 5, 55)
        assert str(found) == str(expected)
    assert peak_over_span(D(1), cash, [], equity_at, 0, 60) == D(1)
    assert peak_over_span(D(1), cash, holdings, equity_at, 7, 7) == D(1)
