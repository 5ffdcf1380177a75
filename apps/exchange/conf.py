"""The exchange gateway's settings, each read from Django settings with a default.

Every name here is documented in docs/exchange.md; config/settings/base.py may set
them from the environment, and nothing breaks while it does not.
"""

from decimal import Decimal

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def paper_rest_url() -> str:
    return _get("PAPER_EXCHANGE_URL", "http://127.0.0.1:9100").rstrip("/")


def paper_stream_url() -> str:
    default = paper_rest_url().replace("http://", "ws://").replace("https://", "wss://")
    return _get("PAPER_EXCHANGE_STREAM_URL", default).rstrip("/")


def paper_ws_api_url() -> str:
    return _get("PAPER_EXCHANGE_WS_API_URL", paper_stream_url() + "/ws-api/v3")


def testnet_rest_url() -> str:
    """The Spot testnet's REST base (overridable to aim contract tests elsewhere)."""
    return _get("EXCHANGE_TESTNET_URL", "https://testnet.binance.vision").rstrip("/")


def weight_budget_fraction() -> Decimal:
    """Share of each published limit the limiter lets Spotdesk use (the rest is margin)."""
    return Decimal(str(_get("EXCHANGE_WEIGHT_BUDGET_FRACTION", "0.9")))


def default_recv_window_ms() -> int:
    return int(_get("EXCHANGE_RECV_WINDOW_MS", 5000))


def request_timeout_seconds() -> float:
    return float(_get("EXCHANGE_REQUEST_TIMEOUT", 10.0))


def limiter_max_wait_seconds() -> float:
    """How long a request may queue for budget before it gives up with RateLimitedError."""
    return float(_get("EXCHANGE_LIMITER_MAX_WAIT", 70.0))


def read_retry_attempts() -> int:
    return int(_get("EXCHANGE_READ_RETRY_ATTEMPTS", 4))


def read_retry_max_seconds() -> float:
    return float(_get("EXCHANGE_READ_RETRY_MAX_SECONDS", 20.0))


def unknown_order_grace_seconds() -> float:
    """How long -2013 must keep answering before a lost order may be resent (same id)."""
    return float(_get("EXCHANGE_UNKNOWN_ORDER_GRACE_SECONDS", 5.0))


def unknown_order_deadline_seconds() -> float:
    """After this long an unresolved order is reported `unknown` for reconciliation."""
    return float(_get("EXCHANGE_UNKNOWN_ORDER_DEADLINE_SECONDS", 30.0))


def unknown_order_query_interval_seconds() -> float:
    return float(_get("EXCHANGE_UNKNOWN_ORDER_QUERY_INTERVAL", 1.0))


def time_sync_samples() -> int:
    return int(_get("EXCHANGE_TIME_SYNC_SAMPLES", 5))


def time_sync_max_age_seconds() -> float:
    return float(_get("EXCHANGE_TIME_SYNC_MAX_AGE", 300.0))


def breaker_failure_threshold() -> int:
    return int(_get("EXCHANGE_BREAKER_FAILURES", 5))


def breaker_error_rate() -> float:
    return float(_get("EXCHANGE_BREAKER_ERROR_RATE", 0.5))


def breaker_min_calls() -> int:
    return int(_get("EXCHANGE_BREAKER_MIN_CALLS", 20))


def breaker_window_seconds() -> int:
    return int(_get("EXCHANGE_BREAKER_WINDOW", 60))


def breaker_open_seconds() -> float:
    return float(_get("EXCHANGE_BREAKER_OPEN_SECONDS", 30.0))


def exchange_info_ttl_seconds() -> int:
    return int(_get("EXCHANGE_INFO_TTL", 24 * 3600))


def live_endpoint_cooldown_seconds() -> int:
    return int(_get("EXCHANGE_LIVE_ENDPOINT_COOLDOWN", 60))


def egress_id() -> str:
    """Names the egress IP whose budget this process shares (one per NAT/host group)."""
    return str(_get("EXCHANGE_EGRESS_ID", "default"))
