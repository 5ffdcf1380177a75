"""Rolling windows of trading observations in Redis, judged by z-score (anomaly.py).

Each series (order latency per environment, slippage per symbol, return per trade per
account) keeps its last ANOMALY_WINDOW observations in a Redis list shared by every
process. An observation is judged against the window before it, then added; one
further than ANOMALY_Z_THRESHOLD standard deviations raises `anomaly_<kind>` (the
notification pipeline groups a storm of them into one message).

Monitoring never breaks trading: a Redis failure is logged and the observation lost.
"""

from __future__ import annotations

from apps.core.logging import get_logger

from . import conf
from .anomaly import is_anomaly, z_score
from .metrics import ANOMALIES

logger = get_logger(__name__)
KEY_PREFIX = "spotdesk:anomaly:"
KEEP_SECONDS = 30 * 86400  # a series nobody feeds for a month starts afresh
MESSAGES = {
    "order_latency": "Order acknowledgement took {value:.3f} s on {series}",
    "slippage": "Slippage of {value:.1f} bps on {series}",
    "trade_pnl": "A trade returned {value:.2%} on account {series}",
}


def window_key(kind: str, series: str) -> str:
    return f"{KEY_PREFIX}{kind}:{series}"


def observe(kind: str, series: str, value: float, *, organization=None, **context):
    """Judge `value` against its series, then add it. Returns the z-score (None while
    the window is too short or flat, or when Redis is unavailable)."""
    from apps.core.redis import get_redis

    try:
        client = get_redis()
        key = window_key(kind, series)
        size = conf.anomaly_window()
        history = [float(x) for x in client.lrange(key, 0, size - 1)]
        with client.pipeline(transaction=False) as pipe:
            pipe.lpush(key, repr(float(value)))
            pipe.ltrim(key, 0, size - 1)
            pipe.expire(key, KEEP_SECONDS)
            pipe.execute()
    except Exception as exc:
        logger.warning("anomaly window unavailable", kind=kind, error=type(exc).__name__)
        return None
    z = z_score(history, float(value), min_samples=conf.anomaly_min_samples())
    if is_anomaly(z, conf.anomaly_z_threshold()):
        from .alerts import raise_alert

        ANOMALIES.labels(kind=kind).inc()
        mean = sum(history) / len(history)
        raise_alert(
            "warning",
            f"anomaly_{kind}",
            MESSAGES[kind].format(value=value, series=series)
            + f" (z-score {z:.1f} against the last {len(history)} observations).",
            organization=organization,
            series=series,
            value=round(float(value), 6),
            mean=round(mean, 6),
            z_score=round(z, 2),
            **context,
        )
    return z
