"""The one registry of Spotdesk's own Prometheus metrics (all named `spotdesk_*`).

django-prometheus exports HTTP, database and cache metrics; domain code imports the
objects below and never creates metrics elsewhere, so names and labels stay in one
reviewed place. Later issues add their metrics here.
"""

import os

from prometheus_client import Counter, Gauge, Histogram

# Multiprocess mode (prefork workers): every process writes its samples to files in
# this directory, which must exist before the first metric is created.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

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
SLOW_QUERIES = Counter(
    "spotdesk_db_slow_queries",
    "Queries slower than DB_SLOW_QUERY_MS (apps/monitoring/database.py).",
    ["alias"],
)
REQUESTS_SHED = Counter(
    "spotdesk_requests_shed",
    "Requests answered 503 because no database connection came free in time (overload).",
    ["surface"],  # api or page
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

# --- Market-data streams (apps/exchange/streams) ------------------------------------
STREAM_RECONNECTS = Counter(
    "spotdesk_stream_reconnects_total",
    "Market-data WebSocket reconnections (drops, stalls and rotations).",
)
STREAM_STALLS = Counter(
    "spotdesk_stream_stalls_total",
    "Market-data connections that went quiet past the stall threshold.",
)
STREAM_MESSAGES_DROPPED = Counter(
    "spotdesk_stream_messages_dropped_total",
    "Stream messages dropped because the consumer queue was full (slow consumer).",
)

# --- Notifications (apps/monitoring/notifications) ---------------------------------
NOTIFICATIONS = Counter(
    "spotdesk_notifications_total",
    "Notification attempts by channel and outcome (sent, retry, failed).",
    ["channel", "outcome"],
)
NOTIFICATIONS_GROUPED = Counter(
    "spotdesk_notifications_grouped_total",
    "Alerts that joined an open notification instead of sending their own.",
    ["channel"],
)

# --- Celery tasks (celery_worker/signals.py) ----------------------------------------
CELERY_TASKS = Counter(
    "spotdesk_celery_tasks_total",
    "Celery tasks finished in this worker, by task and outcome (success, failure, retry).",
    ["task", "outcome"],
)
CELERY_TASK_SECONDS = Histogram(
    "spotdesk_celery_task_seconds",
    "Run time of Celery tasks in this worker.",
    ["task"],
    buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300),
)
BEAT_PUBLISHED = Counter(
    "spotdesk_beat_tasks_published_total",
    "Periodic tasks celery beat sent to the broker.",
    ["task"],
)

# --- Per-candle cycles (apps/trading/cycle) -----------------------------------------
CYCLE_SECONDS = Histogram(
    "spotdesk_cycle_seconds",
    "Duration of one account's evaluation in a per-candle cycle, by outcome.",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CANDLE_LAG_SECONDS = Histogram(
    "spotdesk_candle_lag_seconds",
    "Time from a candle's close to the decision written for it.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)
CYCLE_TASKS_ENQUEUED = Counter(
    "spotdesk_cycle_tasks_enqueued_total",
    "Per-candle group tasks enqueued by the fan-out.",
)

# --- Reconciliation (apps/trading/reconciliation.py) --------------------------------
RECONCILIATION_MISMATCHES = Counter(
    "spotdesk_reconciliation_mismatches_total",
    "Differences reconciliation found between the exchange and the database, by kind.",
    ["kind"],
)

# --- Orders and fills (apps/monitoring/trading_metrics.py, called by apps/trading) ----
ORDERS = Counter(
    "spotdesk_orders_total",
    "Orders sent to the exchange, by account, side, type and outcome (the order's status "
    "once the exchange answered: new, filled, partially_filled, rejected, unknown, ...).",
    ["account", "side", "type", "outcome"],
)
ORDER_ROUNDTRIP_SECONDS = Histogram(
    "spotdesk_order_roundtrip_seconds",
    "Time from the order row being written to the exchange's acknowledgement.",
    ["environment"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FILLS = Counter(
    "spotdesk_fills_total",
    "Fills booked (each exchange trade once, whichever source saw it first), by account and side.",
    ["account", "side"],
)
ANOMALIES = Counter(
    "spotdesk_anomalies_total",
    "Observations more than the z-score threshold away from their rolling mean, by kind "
    "(order_latency, slippage, trade_pnl).",
    ["kind"],
)

# --- Request weight per account and endpoint (apps/exchange/gateway.py) ---------------
EXCHANGE_REQUEST_WEIGHT = Counter(
    "spotdesk_exchange_request_weight_total",
    "Request weight reserved before sending, by egress scope (IP and environment), "
    "account ('public' without one) and endpoint: API cost tracking.",
    ["scope", "account", "endpoint"],
)
EXCHANGE_WEIGHT_BUDGET = Gauge(
    "spotdesk_exchange_weight_budget",
    "Request weight Spotdesk allows itself per minute and egress scope (the exchange's "
    "limit times EXCHANGE_WEIGHT_BUDGET_FRACTION).",
    ["scope"],
)
