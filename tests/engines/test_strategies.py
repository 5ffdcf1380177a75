"""Strategy interface, parameters, registry, built-ins and the no-look-ahead property."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.strategies.engine import (
    Action,
    MarketContext,
    ParameterErrors,
    ParamSchema,
    Signal,
    Strategy,
    StrategyRegistry,
    registry,
    run_strategy,
)
from apps.strategies.engine.candles import CANDLE_DTYPE, Candle, CandleWindow, LazyCandleWindow
from apps.strategies.engine.params import int_param

from .market_data import load

BUILTINS = ("breakout", "dca", "mean_reversion", "trend_following")


def context(rows, end: int, symbol: str = "ETHBTC") -> MarketContext:
    return MarketContext.from_array(symbol, "5m", rows[:end])


def test_builtins_are_registered_with_versions_and_docs():
    assert set(BUILTINS) <= set(registry.keys())
    for entry in registry.describe():
        if entry["key"] in BUILTINS:
            assert entry["version"]
            assert "Works" in entry["description"]
            assert "Fails" in entry["description"]
            assert entry["parameters"]["type"] == "object"


@pytest.mark.parametrize("key", BUILTINS)
def test_builtins_emit_every_action_on_real_data_and_stamp_identity(key):
    rows = load("ETHBTC")
    strategy = registry.create(key)
    seen = set()
    for end in range(strategy.history, len(rows)):
        signal = run_strategy(strategy, context(rows, end))
        assert signal.strategy == key
        assert signal.version == type(strategy).version
        assert signal.candle_time == int(rows["open_time"][end - 1])
        seen.add(signal.action)
        if signal.action is Action.ENTER_LONG and not signal.accumulate:
            assert isinstance(signal.stop, Decimal)
            assert signal.stop < Decimal(repr(float(rows["close"][end - 1])))
            assert signal.target > signal.stop
    assert Action.ENTER_LONG in seen
    assert Action.ERROR not in seen


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(BUILTINS),
    symbol=st.sampled_from(["ETHBTC", "TRXBTC", "XMRBTC"]),
    start=st.integers(0, 4000),
    extra=st.integers(1, 300),
    order=st.randoms(use_true_random=False),
)
def test_no_look_ahead_appending_future_candles_changes_no_past_signal(
    key, symbol, start, extra, order
):
    """Signals computed on a series must not change when later candles are appended,
    nor depend on the order of evaluation (no hidden state between calls)."""
    rows = load(symbol)
    strategy = registry.create(key)
    first_end = start + strategy.history + 60
    ends = list(range(start + 1, first_end + 1))
    before = {end: run_strategy(strategy, context(rows, end, symbol)) for end in ends}
    longer = rows[: first_end + extra]
    order.shuffle(ends)
    for end in ends:
        ctx = MarketContext.from_array(symbol, "5m", longer[:end])
        assert run_strategy(strategy, ctx) == before[end]
    # And a window carrying much more history than needed gives the same signal.
    assert run_strategy(strategy, context(rows, first_end, symbol)) == before[first_end]


class Exploding(Strategy):
    key = "exploding"
    version = "0"
    name = "raises"
    schema = ParamSchema((int_param("n", 3, minimum=1, maximum=10, label="n", help_text="n"),))

    @property
    def history(self) -> int:
        return self.params["n"]

    def evaluate(self, ctx):
        raise ZeroDivisionError("boom")


def test_a_strategy_exception_becomes_an_error_signal_that_is_not_actionable():
    rows = load("ETHBTC")
    signal = run_strategy(Exploding(), context(rows, 50))
    assert signal.action is Action.ERROR
    assert "ZeroDivisionError: boom" in signal.reason
    assert not signal.actionable


def test_too_little_history_holds_with_a_reason():
    strategy = registry.create("trend_following")
    signal = run_strategy(strategy, context(load("ETHBTC"), 10))
    assert signal.action is Action.HOLD
    assert "warming up" in signal.reason


def test_parameters_validate_with_field_and_rule():
    with pytest.raises(ParameterErrors) as info:
        registry.create("trend_following", {"fast": 30, "slow": 20})
    assert info.value.as_dict() == {"fast": "must be below slow"}
    with pytest.raises(ParameterErrors) as info:
        registry.create("trend_following", {"fast": 1, "adx_min": "high", "nope": 1})
    errors = info.value.as_dict()
    assert errors["fast"] == "must be at least 2"
    assert errors["adx_min"] == "must be a number"
    assert errors["nope"] == "is not a parameter of this strategy"
    assert registry.create("trend_following", {"fast": 5.0}).params["fast"] == 5


def test_schema_renders_json_schema_and_form_fields():
    schema = registry.get("breakout").schema
    js = schema.json_schema()
    assert js["properties"]["entry_period"] == {
        "title": "Entry channel",
        "description": "Candles whose highest high the close must exceed.",
        "default": 20,
        "type": "integer",
        "minimum": 2,
        "maximum": 400,
    }
    fields = {f["name"]: f for f in schema.form_fields()}
    assert fields["volume_factor"]["initial"] == 1.5
    assert fields["volume_factor"]["kind"] == "float"


def test_registry_plugins_and_conflicts():
    local = StrategyRegistry()
    local.register(Exploding)
    local.register(Exploding)  # re-import of the same class is harmless
    assert local.keys() == ["exploding"]

    class Impostor(Exploding):
        pass

    with pytest.raises(ValueError, match="already used"):
        local.register(Impostor)
    with pytest.raises(Exception, match="unknown strategy 'missing'"):
        local.get("missing")


def test_dca_buys_once_per_utc_block_whatever_the_start():
    rows = load("ETHBTC")
    strategy = registry.create("dca", {"every_hours": 24, "max_premium": 10.0})
    buys = [
        int(rows["open_time"][end - 1])
        for end in range(strategy.history, len(rows))
        if run_strategy(strategy, context(rows, end)).action is Action.ENTER_LONG
    ]
    days = [t // 86_400_000 for t in buys]
    assert len(days) == len(set(days)) >= 15
    assert all(t % 86_400_000 == 0 for t in buys)  # the first 5m candle of each UTC day


def test_ring_buffer_keeps_the_newest_candles_contiguously():
    window = CandleWindow(4)
    for i in range(10):
        window.append(Candle(i, 1, 2, 0, float(i), 1, i))
    assert list(window.column("close")) == [6.0, 7.0, 8.0, 9.0]
    assert list(window.column("close", 2)) == [8.0, 9.0]
    assert window.last().close == 9.0
    with pytest.raises(ValueError, match=r"read-only"):
        window.column("close")[0] = 1.0
    with pytest.raises(Exception, match="must increase"):
        window.append(Candle(3, 1, 2, 0, 1, 1, 3))


def test_lazy_window_loads_once_on_first_read():
    calls = []

    def loader(capacity):
        calls.append(capacity)
        rows = np.zeros(3, dtype=CANDLE_DTYPE)
        rows["open_time"] = [1, 2, 3]
        rows["close"] = [1.0, 2.0, 3.0]
        return rows

    lazy = LazyCandleWindow(loader, 5)
    lazy.append(Candle(4, 0, 0, 0, 4.0, 0, 4))
    assert not calls
    assert list(lazy.window.column("close")) == [1.0, 2.0, 3.0, 4.0]
    assert list(lazy.window.column("close")) == [1.0, 2.0, 3.0, 4.0]
    assert calls == [5]


def test_signal_prices_are_decimal_from_shortest_repr():
    strategy = registry.create("trend_following")
    ctx = context(load("ETHBTC"), 200)
    signal = strategy.signal(ctx, Action.ENTER_LONG, "x", stop=0.1, target=float("nan"))
    assert isinstance(signal, Signal)
    assert signal.stop == Decimal("0.1")
    assert signal.target is None


def test_fingerprint_identifies_strategy_version_and_parameters():
    a = registry.create("trend_following", {"fast": 10})
    b = registry.create("trend_following", {"fast": 10, "slow": 26})
    c = registry.create("trend_following", {"fast": 11})
    assert a.fingerprint == b.fingerprint  # defaults filled in: same parameters
    assert a.fingerprint != c.fingerprint


class BrokenHistory(Exploding):
    key = "broken_history"

    @property
    def history(self) -> int:
        raise KeyError("missing parameter")


def test_an_exception_computing_history_is_also_a_strategy_error():
    signal = run_strategy(BrokenHistory(), context(load("ETHBTC"), 50))
    assert signal.action is Action.ERROR
    assert "KeyError" in signal.reason
