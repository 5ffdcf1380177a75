"""Statistical anomalies: how many standard deviations an observation lies from the
mean of the observations before it (a z-score over a rolling window).

Pure: no Django, no I/O. `apps/monitoring/anomaly_watch.py` keeps the windows in Redis
and raises the alerts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def z_score(history: Sequence[float], value: float, *, min_samples: int = 20) -> float | None:
    """(value - mean) / standard deviation of `history` (sample deviation); None while
    the history is shorter than `min_samples` or has no spread (a constant series says
    nothing about what is unusual)."""
    n = len(history)
    if n < max(2, min_samples):
        return None
    mean = math.fsum(history) / n
    variance = math.fsum((x - mean) ** 2 for x in history) / (n - 1)
    if not math.isfinite(variance) or variance <= 0:
        return None
    return (value - mean) / math.sqrt(variance)


def is_anomaly(z: float | None, threshold: float) -> bool:
    return z is not None and abs(z) > threshold
