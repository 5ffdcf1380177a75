"""The one registry of Spotdesk's own Prometheus metrics (all named `spotdesk_*`).

django-prometheus exports HTTP, database and cache metrics; domain code imports the
objects below and never creates metrics elsewhere, so names and labels stay in one
reviewed place. Later issues add their metrics here.
"""

from prometheus_client import Counter, Gauge, Histogram

ALERTS_RAISED = Counter(
    "spotdesk_alerts_raised_total",
    "Alerts recorded by raise_alert, by severity and event.",
    ["severity", "event"],
)
WORKER_HEARTBEATS = Counter(
    "spotdesk_worker_heartbeats_total",
    "Worker heartbeats recorded, by queue.",
    ["queue"],
)
READINESS_CHECK_SECONDS = Histogram(
    "spotdesk_readiness_check_seconds",
    "Duration of each readiness check.",
    ["check"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
)
READINESS_CHECK_FAILURES = Counter(
    "spotdesk_readiness_check_failures_total",
    "Readiness checks that failed, by check.",
    ["check"],
)
LIVE_CONNECTIONS = Gauge(
    "spotdesk_live_websocket_connections",
    "Open live-update WebSocket connections in this process.",
)
