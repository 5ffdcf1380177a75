"""A/B comparison: is configuration A better than B, or is the difference noise?

``paired_bootstrap`` resamples the per-bar return differences of two runs on the same
bars in moving blocks (returns are autocorrelated; whole blocks keep that), and reports
the observed difference of mean returns, a percentile confidence interval and a
two-sided p-value for "no difference" (the bootstrap distribution shifted to mean 0).
``unpaired_bootstrap`` does the same for two independent samples (e.g. trade returns).
Pure numpy; seeded.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    difference: float  # statistic(A) - statistic(B), observed
    ci_low: float
    ci_high: float
    p_value: float  # two-sided, H0: no difference
    confidence: float
    resamples: int
    block: int

    def as_dict(self) -> dict:
        return asdict(self)


def per_bar_returns(equity, initial: float) -> np.ndarray:
    equity = np.asarray(equity, dtype=np.float64)
    previous = np.concatenate(([float(initial)], equity[:-1]))
    return equity / previous - 1.0


def _block_indices(rng, n: int, block: int, resamples: int) -> np.ndarray:
    """Moving-block bootstrap: rows of n indices made of consecutive runs of ``block``."""
    blocks = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, (resamples, blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, -1)
    return idx[:, :n]


def _summarise(observed, samples, confidence, resamples, block) -> BootstrapResult:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(samples, [100 * alpha, 100 * (1 - alpha)])
    # Shift the distribution to H0 (mean difference 0) and count as extreme samples.
    centred = samples - samples.mean()
    extreme = np.count_nonzero(np.abs(centred) >= abs(observed))
    p_value = (extreme + 1) / (samples.size + 1)
    return BootstrapResult(
        difference=float(observed),
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(min(1.0, p_value)),
        confidence=confidence,
        resamples=resamples,
        block=block,
    )


def paired_bootstrap(
    a,
    b,
    *,
    resamples: int = 5000,
    block: int | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """Mean of ``a - b`` (same length, same bars), with blocks of ``block`` bars
    (default: about the cube root of the length)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError("a and b must be 1-d sequences of the same length (at least 2)")
    _check(resamples, confidence)
    diff = a - b
    n = diff.size
    block = max(1, min(n, block or round(n ** (1 / 3))))
    rng = np.random.default_rng(seed)
    samples = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)  # bound memory: index rows per batch
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        samples[start : start + size] = diff[_block_indices(rng, n, block, size)].mean(axis=1)
    return _summarise(diff.mean(), samples, confidence, resamples, block)


def unpaired_bootstrap(
    a, b, *, resamples: int = 5000, confidence: float = 0.95, seed: int = 0
) -> BootstrapResult:
    """Difference of means of two independent samples, each resampled on its own."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or a.size < 2 or b.size < 2:
        raise ValueError("a and b must be 1-d sequences of at least 2 values")
    _check(resamples, confidence)
    rng = np.random.default_rng(seed)
    samples = a[rng.integers(0, a.size, (resamples, a.size))].mean(axis=1) - b[
        rng.integers(0, b.size, (resamples, b.size))
    ].mean(axis=1)
    return _summarise(a.mean() - b.mean(), samples, confidence, resamples, 1)


def _check(resamples: int, confidence: float) -> None:
    if resamples < 100:
        raise ValueError("resamples must be at least 100")
    if not 0.5 <= confidence < 1:
        raise ValueError("confidence must be in [0.5, 1)")
