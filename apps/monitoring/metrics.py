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

# --- Exchange gateway (apps/exchange) -------------------------------------------
EXCHANGE_REQUESTS = Counter(
    "spotdesk_exchange_requests_total",
    "Requests the exchange gateway sent, by environment, endpoint and outcome.",
    ["environment", "endpoint", "outcome"],
)
EXCHANGE_REQUEST_SECONDS = Histogram(
    "spotdesk_exchange_request_seconds",
    "Round-trip time of exchange requests (limiter wait excluded).",
    ["environment"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
EXCHANGE_LIMITER_WAIT_SECONDS = Histogram(
    "spotdesk_exchange_limiter_wait_seconds",
    "Time a request waited for rate-limit budget before it was sent.",
    ["scope"],
    buckets=(0.001, 0.01, 0.1, 0.5, 1, 5, 15, 30, 60),
)
EXCHANGE_USED_WEIGHT = Gauge(
    "spotdesk_exchange_used_weight",
    "Request weight used in the current minute, as the exchange last reported it.",
    ["scope"],
)
EXCHANGE_RATE_LIMIT_HITS = Counter(
    "spotdesk_exchange_rate_limit_hits_total",
    "429 (rate limited) and 418 (IP banned) answers received, by scope and status.",
    ["scope", "status"],
)
EXCHANGE_TIME_OFFSET_MS = Gauge(
    "spotdesk_exchange_time_offset_ms",
    "Exchange server time minus local time (ms), per environment.",
    ["environment"],
)
EXCHANGE_TIME_SYNC_RTT_MS = Gauge(
    "spotdesk_exchange_time_sync_rtt_ms",
    "Round-trip time of the best /api/v3/time sample of the last sync (ms).",
    ["environment"],
)
EXCHANGE_CIRCUIT_STATE = Gauge(
    "spotdesk_exchange_circuit_state",
    "Circuit breaker state per account and endpoint group: 0 closed, 1 half-open, 2 open.",
    ["account", "group"],
)
EXCHANGE_ORDER_OUTCOMES = Counter(
    "spotdesk_exchange_order_outcomes_total",
    "Order placements by how their outcome became known.",
    ["outcome"],
)
EXCHANGE_ENDPOINT_FAILOVERS = Counter(
    "spotdesk_exchange_endpoint_failovers_total",
    "Live REST hosts marked unhealthy (traffic moved to another live host).",
    ["host"],
)
EXCHANGE_PING_MS = Gauge(
    "spotdesk_exchange_ping_ms",
    "Latency of the last /api/v3/ping per environment (ms).",
    ["environment"],
)
