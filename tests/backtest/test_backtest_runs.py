"""Backtests as a product: stored candles, services, batches, the real Celery worker."""

from dataclasses import replace
from decimal import Decimal as D

import numpy as np
import pytest

from apps.accounts.actors import Actor
from apps.accounts.roles import Role
from apps.audit.models import AuditEvent
from apps.backtest import execute, services
from apps.backtest.data import market_rules
from apps.backtest.engine import BacktestSettings, FillModel, run_backtest
from apps.backtest.models import Backtest, BacktestBatch, Status
from apps.core.errors import NotFound, PermissionDenied, ValidationError
from apps.marketdata.models import Symbol
from apps.strategies.engine import registry
from apps.strategies.services import ParameterValidationError
from tests.accounts.factories import make_org, member, verified

from .db_support import period, store_candles

pytestmark = pytest.mark.django_db
SMA = {"fast": 10, "slow": 30}
SYSTEM = Actor.for_system()


def base(org, **kw):
    start, end = period()
    fields = {
        "organization": org,
        "environment": "paper",
        "strategy": "trend_following",
        "params": SMA,
        "symbols": ["BTCUSDT"],
        "interval": "1h",
        "start": start,
        "end": end,
    }
    return fields | kw


def direct_run(candles, params=SMA, **settings):
    rules = market_rules(Symbol.objects.get(environment="paper", name="BTCUSDT"))
    strategy = registry.create("trend_following", params)
    fill = FillModel(commission=D("0.001"), tick_size=rules.tick_size)
    return run_backtest(
        strategy,
        candles,
        BacktestSettings(symbol="BTCUSDT", interval="1h", initial_cash=D(10000), fill=fill,
                         market=rules, **settings),
    )  # fmt: skip


def test_a_run_stores_what_the_engine_computes(django_capture_on_commit_callbacks):
    candles = store_candles()
    org = make_org()
    backtest = services.create_backtest(actor=SYSTEM, **base(org))
    assert backtest.status == Status.QUEUED
    services.run_backtest(backtest.pk)
    backtest.refresh_from_db()
    assert backtest.status == Status.DONE, backtest.error
    assert backtest.progress == 100
    expected = direct_run(candles)
    assert backtest.metrics["trades"] == len(expected.trades) > 5
    assert backtest.metrics["total_return"] == pytest.approx(expected.metrics.total_return, abs=0)
    assert backtest.metrics["final_equity"] == str(expected.final_equity)
    assert [t["pnl"] for t in backtest.trades] == [str(t.pnl) for t in expected.trades]
    times, equity = backtest.unpack_curve()
    assert np.array_equal(times, expected.open_time)
    assert np.array_equal(equity, expected.equity)
    assert backtest.monte_carlo["simulations"] == 1000
    assert backtest.monte_carlo["max_drawdown"]["p5"] <= backtest.monte_carlo["max_drawdown"]["p95"]
    assert len(bytes(backtest.curve)) < 2000 * 16 // 2  # compact: half of the raw arrays
    # Running again (a redelivered task) leaves the finished row alone.
    assert services.run_backtest(backtest.pk) is None
    actions = set(
        AuditEvent.objects.filter(organization_id=org.pk).values_list("action", flat=True)
    )
    assert {"backtest.created", "backtest.finished"} <= actions


def test_missing_candles_fail_with_the_reason():
    store_candles()
    org = make_org()
    _start, end = period()
    backtest = services.create_backtest(
        actor=SYSTEM, **base(org, start=end, end=end.replace(year=end.year + 1))
    )
    services.run_backtest(backtest.pk)
    backtest.refresh_from_db()
    assert backtest.status == Status.FAILED
    assert "no candles of BTCUSDT 1h" in backtest.error
    assert "import_klines" in backtest.error


def test_bad_input_names_the_field_and_writes_nothing():
    store_candles()
    org = make_org()
    cases = [
        ({"strategy": "nope"}, "strategy"),
        ({"params": {"fast": 0}}, "params.fast"),
        ({"symbols": ["NOPEUSDT"]}, "symbols[0]"),
        ({"interval": "7m"}, "interval"),
        ({"fill_mode": "magic"}, "fill_mode"),
        ({"commission": "0.7"}, "commission"),
        ({"initial_cash": "-1"}, "initial_cash"),
    ]
    for override, field in cases:
        with pytest.raises(ValidationError) as caught:
            services.create_backtest(actor=SYSTEM, **base(org, **override))
        assert caught.value.field == field
    start, end = period()
    with pytest.raises(ValidationError, match="end"):
        services.create_backtest(actor=SYSTEM, **base(org, start=end, end=start))
    assert not Backtest.objects.exists()


def test_roles_decide_who_may_create():
    store_candles()
    org, other = make_org(), make_org()
    viewer = member(org, Role.VIEWER)
    trader = member(org, Role.TRADER)
    with pytest.raises(PermissionDenied):
        services.create_backtest(actor=verified(viewer), **base(org))
    with pytest.raises(NotFound):
        services.create_backtest(actor=verified(trader), **base(other))
    assert services.create_backtest(actor=verified(trader), **base(org)).created_by == (
        trader.username
    )


def _run_all(batch):
    """What the worker does: run queued children until none is left."""
    for _ in range(100):
        queued = list(batch.runs.filter(status=Status.QUEUED).values_list("pk", flat=True))
        if not queued:
            break
        for pk in queued:
            services.run_backtest(pk)
    batch.refresh_from_db()
    return batch


def test_sweep_splits_into_one_run_per_combination_and_ranks_them():
    candles = store_candles()
    org = make_org()
    grid = {"fast": [5, 10], "slow": [30, 50]}
    batch = services.create_batch(actor=SYSTEM, kind="sweep", grid=grid, **base(org))
    runs = list(batch.runs.order_by("pk"))
    assert [{k: r.params[k] for k in grid} for r in runs] == [
        {"fast": 5, "slow": 30}, {"fast": 5, "slow": 50},
        {"fast": 10, "slow": 30}, {"fast": 10, "slow": 50},
    ]  # fmt: skip
    assert {r.status for r in runs} == {Status.QUEUED}
    services.run_backtest(runs[0].pk)
    batch.refresh_from_db()
    assert (batch.status, batch.progress) == (Status.RUNNING, 25)
    batch = _run_all(batch)
    assert (batch.status, batch.progress) == (Status.DONE, 100)
    ranking = batch.summary["ranking"]
    assert [r["sharpe"] for r in ranking] == sorted((r["sharpe"] for r in ranking), reverse=True)
    best = batch.summary["best"]
    direct = direct_run(candles, best["params"])
    assert best["total_return"] == pytest.approx(direct.metrics.total_return, abs=0)


def test_sweep_refuses_a_bad_grid():
    store_candles()
    org = make_org()
    with pytest.raises(ValidationError) as caught:
        services.create_batch(actor=SYSTEM, kind="sweep", grid={"fast": [5, "x"]}, **base(org))
    assert caught.value.field.startswith("grid")
    with pytest.raises(ValidationError, match="at most"):
        services.create_batch(
            actor=SYSTEM, kind="sweep", grid={"fast": list(range(2, 40)), "slow": list(range(
                41, 60))}, **base(org)
        )  # fmt: skip
    assert not BacktestBatch.objects.exists()


def test_a_sweep_skips_the_combinations_that_break_the_strategys_rules():
    store_candles()
    org = make_org()
    # Overlapping ranges: (10, 10), (20, 10) and (20, 20) break "fast must be below slow".
    grid = {"fast": [5, 10, 20], "slow": [10, 20, 30]}
    batch = services.create_batch(actor=SYSTEM, kind="sweep", grid=grid, **base(org))
    pairs = [(r.params["fast"], r.params["slow"]) for r in batch.runs.order_by("pk")]
    assert pairs == [(5, 10), (5, 20), (5, 30), (10, 20), (10, 30), (20, 30)]
    assert batch.spec["skipped_by_rules"] == 3
    walk = services.create_batch(actor=SYSTEM, kind="walk_forward", grid=grid, folds=2, **base(org))
    assert walk.runs.count() == 2 * 6
    assert walk.spec["skipped_by_rules"] == 3


def test_a_grid_where_every_combination_breaks_a_rule_is_refused_naming_it():
    store_candles()
    org = make_org()
    with pytest.raises(ParameterValidationError) as caught:
        services.create_batch(
            actor=SYSTEM, kind="sweep", grid={"fast": [30, 40], "slow": [20, 30]}, **base(org)
        )
    assert caught.value.errors == {"grid.fast": "must be below slow"}
    # A value out of bounds still refuses the grid, even beside valid combinations.
    with pytest.raises(ParameterValidationError) as caught:
        services.create_batch(
            actor=SYSTEM, kind="sweep", grid={"fast": [5, 0], "slow": [30]}, **base(org)
        )
    assert list(caught.value.errors) == ["grid.fast"]
    assert not BacktestBatch.objects.exists()


def test_walk_forward_trains_then_tests_the_best_on_the_next_window():
    store_candles()
    org = make_org()
    grid = {"fast": [5, 10], "slow": [30, 50]}
    batch = services.create_batch(
        actor=SYSTEM, kind="walk_forward", grid=grid, folds=3, train_ratio=0.6, **base(org)
    )
    roles = sorted(batch.runs.values_list("role", flat=True))
    assert roles == ["train 1"] * 4 + ["train 2"] * 4 + ["train 3"] * 4  # tests come later
    batch = _run_all(batch)
    assert batch.status == Status.DONE
    windows = batch.spec["windows"]
    for fold, _train_start, train_end, test_start, test_end in windows:
        train = list(batch.runs.filter(role=f"train {fold}"))
        test = batch.runs.get(role=f"test {fold}")
        best = services.best_run(train, "sharpe")
        assert test.params == best.params
        assert all(t.end.timestamp() * 1000 == train_end for t in train)
        assert test.start.timestamp() * 1000 == test_start
        assert test.end.timestamp() * 1000 == test_end
        assert test.status == Status.DONE
    folds = batch.summary["folds"]
    assert [f["fold"] for f in folds] == [1, 2, 3]
    growth = np.prod([1 + f["test"]["total_return"] for f in folds]) - 1
    assert batch.summary["out_of_sample_return"] == pytest.approx(growth)


def test_ab_comparison_bootstraps_the_difference():
    store_candles()
    org = make_org()
    batch = services.create_batch(
        actor=SYSTEM, kind="compare", variant={"params": {"fast": 20, "slow": 60}}, **base(org)
    )
    batch = _run_all(batch)
    summary = batch.summary
    assert summary["a"]["params"] | SMA == summary["a"]["params"]
    assert summary["b"]["params"] | {"fast": 20, "slow": 60} == summary["b"]["params"]
    per_bar = summary["per_bar"]
    assert per_bar["ci_low"] <= per_bar["difference"] <= per_bar["ci_high"]
    assert 0 < per_bar["p_value"] <= 1
    assert "per_trade" in summary


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_backtest_queue_runs_it_on_a_real_worker(celery_worker_process, wait_until):
    candles = store_candles()
    org = make_org()
    backtest = services.create_backtest(actor=SYSTEM, **base(org))  # queued on commit

    def finished():
        backtest.refresh_from_db()
        return backtest.status in (Status.DONE, Status.FAILED)

    wait_until(finished, timeout=120, message=celery_worker_process.output()[-3000:])
    assert backtest.status == Status.DONE, backtest.error
    assert backtest.progress == 100
    expected = direct_run(candles)
    assert backtest.metrics["total_return"] == pytest.approx(expected.metrics.total_return, abs=0)
    assert backtest.metrics["sharpe"] == pytest.approx(expected.metrics.sharpe, abs=0)
    assert backtest.metrics["trades"] == len(expected.trades)
    assert "apps.backtest.tasks.run_backtest" in celery_worker_process.output()


def test_several_symbols_run_as_one_account_with_the_risk_profile_snapshot():
    from apps.backtest.engine.portfolio import run_portfolio
    from apps.risk.models import RiskProfile

    btc = store_candles("BTCUSDT", seed=1)
    eth = store_candles("ETHUSDT", seed=2)
    profile = RiskProfile.objects.create(name="loose", max_open_positions=1,
                                         daily_loss_limit_pct=None, max_trades_per_day=None,
                                         cooldown_after_losses=None)  # fmt: skip
    org = make_org()
    backtest = services.create_backtest(
        actor=SYSTEM, **base(org, symbols=["BTCUSDT", "ETHUSDT"], risk_profile=profile)
    )
    assert backtest.risk_profile_name == "loose"
    # Editing the profile afterwards changes nothing in the stored backtest.
    RiskProfile.objects.filter(pk=profile.pk).update(max_position_pct=D("0.1"))
    services.run_backtest(backtest.pk)
    backtest.refresh_from_db()
    assert backtest.status == Status.DONE, backtest.error

    rules = {n: market_rules(Symbol.objects.get(environment="paper", name=n))
             for n in ("BTCUSDT", "ETHUSDT")}  # fmt: skip
    config = RiskProfile(**{**_fields(profile), "max_open_positions": 1}).to_engine_config()
    settings = {
        n: BacktestSettings(symbol=n, interval="1h", initial_cash=D(10000),
                            fill=FillModel(commission=D("0.001"), tick_size=rules[n].tick_size),
                            market=rules[n], risk=config)
        for n in rules
    }  # fmt: skip
    strategy = registry.create("trend_following", SMA)
    expected = run_portfolio(strategy, {"BTCUSDT": btc, "ETHUSDT": eth}, settings,
                             initial_cash=D(10000))  # fmt: skip
    assert backtest.metrics["trades"] == len(expected.trades)
    assert backtest.metrics["final_equity"] == str(expected.final_equity)
    assert {t["symbol"] for t in backtest.trades} == {"BTCUSDT", "ETHUSDT"}
    # The edited profile would have traded otherwise: the snapshot held.
    five = {n: replace(s, risk=replace(config, max_position_pct=D("0.1")))
            for n, s in settings.items()}  # fmt: skip
    edited = run_portfolio(strategy, {"BTCUSDT": btc, "ETHUSDT": eth}, five,
                           initial_cash=D(10000))  # fmt: skip
    assert str(edited.final_equity) != backtest.metrics["final_equity"]


def _fields(profile):
    return {
        f.name: getattr(profile, f.name)
        for f in profile._meta.concrete_fields
        if f.name not in ("id", "created_at", "updated_at")
    }


def test_progress_is_published_to_the_backtests_channels_group(redis_client):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    store_candles()
    backtest = services.create_backtest(actor=SYSTEM, **base(make_org()))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"backtest.{backtest.pk}", channel)
    services.run_backtest(backtest.pk)  # the final message is sent on commit: none here
    running = async_to_sync(layer.receive)(channel)
    assert running == {"type": "backtest.progress", "id": backtest.pk, "status": "running",
                       "progress": 0}  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_final_progress_message_follows_the_commit(redis_client):
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    store_candles()
    backtest = services.create_backtest(actor=SYSTEM, **base(make_org()))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"backtest.{backtest.pk}", channel)
    services.run_backtest(backtest.pk)

    async def collect():
        received = []
        while not received or received[-1]["status"] == "running":
            received.append(await asyncio.wait_for(layer.receive(channel), 10))
        return received

    messages = async_to_sync(collect)()
    assert messages[0]["status"] == "running"
    assert (messages[-1]["status"], messages[-1]["progress"]) == ("done", 100)
    assert [m["progress"] for m in messages] == sorted(m["progress"] for m in messages)


def test_a_redelivered_last_run_still_finishes_its_batch():
    store_candles()
    batch = services.create_batch(
        actor=SYSTEM, kind="sweep", grid={"fast": [5, 10]}, **base(make_org())
    )
    first, last = batch.runs.order_by("pk")
    services.run_backtest(first.pk)
    # The last run finished, but its worker died before telling the batch.
    outcome = execute.run(Backtest.objects.get(pk=last.pk))
    services._finish(Backtest.objects.get(pk=last.pk), outcome=outcome)
    batch.refresh_from_db()
    assert batch.status == Status.RUNNING
    assert services.run_backtest(last.pk) is None  # the redelivered task
    batch.refresh_from_db()
    assert (batch.status, batch.progress) == (Status.DONE, 100)
    assert len(batch.summary["ranking"]) == 2
