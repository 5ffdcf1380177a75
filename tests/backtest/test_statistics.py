"""Monte Carlo, bootstrap and the split of sweeps and walk-forward analyses (pure)."""

import itertools

import numpy as np
import pytest

from apps.backtest.engine.bootstrap import paired_bootstrap, per_bar_returns, unpaired_bootstrap
from apps.backtest.engine.montecarlo import monte_carlo, path_max_drawdowns, trade_returns
from apps.backtest.engine.splits import parameter_grid, walk_forward_windows

# --- Monte Carlo ----------------------------------------------------------------------


def test_trade_returns_are_on_the_equity_before_each_trade():
    assert trade_returns([100, -110, 50], 1000) == pytest.approx([0.1, -0.1, 50 / 990])


def test_drawdown_of_a_known_path():
    # 1 -> 1.1 -> 0.99 -> 0.495 -> 0.99: the worst is 0.495 / 1.1 - 1.
    dd = path_max_drawdowns(np.array([[0.1, -0.1, -0.5, 1.0]]))
    assert dd[0] == pytest.approx(0.495 / 1.1 - 1)


def test_identical_trades_have_one_outcome():
    result = monte_carlo([0.01] * 20, simulations=200, seed=1)
    assert set(result.max_drawdown.values()) == {0.0}
    assert result.total_return[50] == pytest.approx(1.01**20 - 1)
    assert result.probability_of_loss == 0.0


def test_shuffle_matches_the_exact_permutation_distribution():
    returns = [0.2, -0.1, -0.15, 0.05, -0.3, 0.25]
    exact = path_max_drawdowns(np.array(list(itertools.permutations(returns))))
    result = monte_carlo(returns, simulations=20_000, seed=7)
    # Every order compounds to the same end; drawdowns follow the exact distribution.
    assert result.total_return[5] == pytest.approx(result.total_return[95])
    for p in (5, 50, 95):
        assert result.max_drawdown[p] == pytest.approx(np.percentile(exact, p), abs=0.01)
    assert result.max_drawdown_samples.min() >= exact.min() - 1e-12
    assert monte_carlo(returns, simulations=500, seed=7).as_dict() == (
        monte_carlo(returns, simulations=500, seed=7).as_dict()
    )


def test_bootstrap_final_return_follows_the_sum_of_log_returns():
    rng = np.random.default_rng(3)
    returns = np.expm1(rng.normal(0.001, 0.02, 400))
    result = monte_carlo(returns, simulations=4000, method="bootstrap", seed=11)
    logs = np.log1p(returns)
    # sum of 400 draws: mean 400 * m, sd sqrt(400) * s (the sample's own m and s)
    # compared in log space, where the sum is about normal
    assert np.log1p(result.total_return[50]) == pytest.approx(400 * logs.mean(), abs=0.03)
    low = 400 * logs.mean() - 1.645 * 20 * logs.std()
    assert np.log1p(result.total_return[5]) == pytest.approx(low, abs=0.04)
    assert 0 < result.probability_of_loss < 1


def test_monte_carlo_refuses_bad_input():
    with pytest.raises(ValueError, match="method"):
        monte_carlo([0.1], method="nope")
    with pytest.raises(ValueError, match="non-empty"):
        monte_carlo([])


# --- bootstrap ------------------------------------------------------------------------


def test_paired_bootstrap_finds_a_real_difference():
    rng = np.random.default_rng(5)
    b = rng.normal(0, 0.01, 2000)
    a = b + 0.002 + rng.normal(0, 0.002, 2000)  # A beats B by 0.002 a bar
    result = paired_bootstrap(a, b, resamples=2000, seed=1)
    assert result.difference == pytest.approx(0.002, abs=0.0002)
    assert result.ci_low < 0.002 < result.ci_high
    assert result.ci_low > 0
    assert result.p_value < 0.01


def test_paired_bootstrap_finds_no_difference_in_noise():
    rng = np.random.default_rng(6)
    p_values = []
    for k in range(40):
        a, b = rng.normal(0, 0.01, (2, 500))
        p_values.append(paired_bootstrap(a, b, resamples=500, seed=k).p_value)
    # Under H0 p-values are about uniform: few below 0.05, median near 0.5.
    assert np.mean(np.array(p_values) < 0.05) <= 0.15
    assert 0.3 < np.median(p_values) < 0.7


def test_paired_ci_width_matches_the_standard_error():
    rng = np.random.default_rng(8)
    diff = rng.normal(0.0, 0.01, 3000)
    result = paired_bootstrap(diff, np.zeros(3000), resamples=4000, block=1, seed=2)
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    assert result.ci_high - result.ci_low == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_unpaired_bootstrap():
    rng = np.random.default_rng(9)
    a, b = rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 300)
    result = unpaired_bootstrap(a, b, resamples=2000, seed=3)
    assert result.ci_low < 1.0 < result.ci_high
    assert result.p_value < 0.01


def test_per_bar_returns():
    assert per_bar_returns([110, 99], 100) == pytest.approx([0.1, -0.1])


# --- splits ---------------------------------------------------------------------------


def test_parameter_grid_is_every_combination_in_a_stable_order():
    grid = parameter_grid({"slow": [20, 30], "fast": [5, 10, 15]})
    assert len(grid) == 6
    assert grid[0] == {"fast": 5, "slow": 20}
    assert grid[-1] == {"fast": 15, "slow": 30}
    with pytest.raises(ValueError, match=r"grid\.fast"):
        parameter_grid({"fast": []})


@pytest.mark.parametrize("anchored", [False, True])
def test_walk_forward_windows_tile_the_period(anchored):
    hour = 3_600_000
    start, end = 0, 1000 * hour
    windows = walk_forward_windows(start, end, folds=4, train_ratio=0.6, anchored=anchored,
                                   align_ms=hour)  # fmt: skip
    assert [w.fold for w in windows] == [1, 2, 3, 4]
    test_len = windows[0].test_end - windows[0].test_start
    for before, after in itertools.pairwise(windows):
        assert after.test_start == before.test_end  # no gap, no overlap
    for w in windows:
        assert w.train_end == w.test_start  # training strictly before testing
        assert w.test_end - w.test_start == test_len
        assert w.test_start % hour == 0
        assert w.train_start % hour == 0
        assert (
            w.train_start == 0 if anchored else w.train_end - w.train_start == windows[0].train_end
        )
    assert windows[-1].test_end <= end
    assert end - windows[-1].test_end < hour * 5  # nothing but rounding is left over
    train = windows[0].train_end - windows[0].train_start
    assert train / (train + test_len) == pytest.approx(0.6, abs=0.01)


def test_walk_forward_refuses_impossible_splits():
    with pytest.raises(ValueError, match="too short"):
        walk_forward_windows(0, 5, folds=10)
    with pytest.raises(ValueError, match="train_ratio"):
        walk_forward_windows(0, 100, folds=2, train_ratio=1)
