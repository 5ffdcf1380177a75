"""Monitoring settings, each read from Django settings with a default.

config/settings/base.py may set them from the environment (docs/observability.md
lists every name); nothing breaks while it does not.
"""

from django.conf import settings


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default if value is None or value == "" else value


# --- Notifications ---------------------------------------------------------------------
def telegram_api_base() -> str:
    """The Telegram Bot API base URL (tests point it at a loopback receiver)."""
    return str(_get("NOTIFICATIONS_TELEGRAM_API_BASE", "https://api.telegram.org")).rstrip("/")


def request_timeout() -> float:
    """Seconds an outbound notification request may take."""
    return float(_get("NOTIFICATIONS_TIMEOUT", 10.0))


def group_seconds() -> float:
    """A new message waits this long for identical alerts to join it (one message, a count)."""
    return float(_get("NOTIFICATIONS_GROUP_SECONDS", 5.0))


def rate_limit_seconds() -> float:
    """At most one message per route and alert key within this window."""
    return float(_get("NOTIFICATIONS_RATE_LIMIT_SECONDS", 300.0))


def max_attempts() -> int:
    return int(_get("NOTIFICATIONS_MAX_ATTEMPTS", 5))


def retry_base_seconds() -> float:
    """Backoff after the first failed attempt; doubles on each further failure."""
    return float(_get("NOTIFICATIONS_RETRY_BASE_SECONDS", 10.0))


def retry_max_seconds() -> float:
    return float(_get("NOTIFICATIONS_RETRY_MAX_SECONDS", 300.0))


def signature_tolerance_seconds() -> int:
    """How old a signed webhook may be when a receiver verifies it (replay window)."""
    return int(_get("NOTIFICATIONS_SIGNATURE_TOLERANCE_SECONDS", 300))


def allow_private_targets() -> bool:
    """Let organization routes post to private, loopback and link-local addresses
    (off: a tenant must not reach internal services through a webhook)."""
    return bool(_get("NOTIFICATIONS_ALLOW_PRIVATE_TARGETS", False))


def email_from() -> str:
    return str(_get("NOTIFICATIONS_EMAIL_FROM", getattr(settings, "DEFAULT_FROM_EMAIL", "")))


def site_name() -> str:
    return str(_get("NOTIFICATIONS_SITE_NAME", "Spotdesk"))


# --- Per-process metrics endpoints ---------------------------------------------------
def worker_metrics_port() -> int | None:
    """Port of a Celery worker's own /metrics; 0 picks a free port (advertised in the
    worker's heartbeat), None or a negative number turns the endpoint off."""
    value = getattr(settings, "WORKER_METRICS_PORT", 0)
    if value is None or value == "" or int(value) < 0:
        return None
    return int(value)


def streams_metrics_port() -> int:
    """Port of the streams process's /metrics (it calls exporter.start_metrics_server)."""
    return int(_get("STREAMS_METRICS_PORT", 9200))


def metrics_bind_address() -> str:
    """Where per-process metrics endpoints listen (0.0.0.0 in containers)."""
    return str(_get("METRICS_BIND_ADDRESS", "127.0.0.1"))


# --- Fleet status -------------------------------------------------------------------
def stale_retention_seconds() -> int:
    """A worker that stopped sending heartbeats stays on /status as stale this long."""
    return int(_get("WORKER_STALE_RETENTION", 6 * 3600))


def beat_heartbeat_ttl() -> int:
    """Beat counts as alive while it published a task within this many seconds."""
    return int(_get("BEAT_HEARTBEAT_TTL", 60))


def status_alert_hours() -> int:
    return int(_get("STATUS_ALERT_HOURS", 24))


# --- Trading alerts -------------------------------------------------------------------
def anomaly_z_threshold() -> float:
    """An observation further than this many standard deviations from its rolling mean
    is an anomaly (order latency, slippage, PnL per trade)."""
    return float(_get("ANOMALY_Z_THRESHOLD", 3.0))


def anomaly_window() -> int:
    """Observations kept per rolling window."""
    return int(_get("ANOMALY_WINDOW", 200))


def anomaly_min_samples() -> int:
    """No anomaly is judged before a window holds this many observations."""
    return int(_get("ANOMALY_MIN_SAMPLES", 30))


def exchange_slow_ms() -> float:
    """A connectivity sample slower than this (ms) counts as slow."""
    return float(_get("EXCHANGE_SLOW_MS", 500.0))


def exchange_slow_samples() -> int:
    """This many slow samples in a row raise `exchange_latency_high`."""
    return int(_get("EXCHANGE_SLOW_SAMPLES", 5))


def order_error_rate_threshold() -> float:
    """Share of an account's orders of the last hour rejected or of unknown outcome
    above which `order_error_rate_high` is raised."""
    return float(_get("ORDER_ERROR_RATE_THRESHOLD", 0.05))


def order_error_rate_min_orders() -> int:
    """An hour with fewer orders than this is not judged (1 of 2 is not a trend)."""
    return int(_get("ORDER_ERROR_RATE_MIN_ORDERS", 20))


def process_memory_alert_bytes() -> int:
    """A worker process whose resident memory exceeds this raises `process_memory_high`
    (checked with every heartbeat); 0 turns the check off."""
    return int(_get("PROCESS_MEMORY_ALERT_BYTES", 1536 * 1024 * 1024))


def streams_heartbeat_stale_seconds() -> int:
    """A streams shard whose heartbeat is older than this shows as stale on /status."""
    return int(_get("STREAMS_HEARTBEAT_STALE_SECONDS", 90))


# --- Database ------------------------------------------------------------------------
def slow_query_ms() -> float:
    """Queries at least this slow are logged and counted; 0 turns the watch off."""
    return float(_get("DB_SLOW_QUERY_MS", 500.0))
