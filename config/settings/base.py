"""Settings shared by every environment.

Everything is read from environment variables (documented in `.env.example`). Values
that production must set have no usable default here: the system checks in
`apps.core.checks` name each one at start, instead of failing at the first trade.
"""

from datetime import timedelta
from pathlib import Path

import environ

from apps.core.logging import build_logging_config

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(environ.Env().str("SPOTDESK_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Production refuses to start without PostgreSQL, Redis and encryption keys; the
# embedded default (local settings) relaxes this for demos.
SPOTDESK_REQUIRE_PRODUCTION_CONFIG = False
# Run the system checks when daphne or Celery starts (they don't by themselves).
SPOTDESK_CHECKS_AT_START = env.bool("SPOTDESK_CHECKS_AT_START", default=False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_prometheus",
    "apps.core",
    "apps.accounts",
    "apps.audit",
    "apps.exchange",
    "apps.paper_exchange",
    "apps.marketdata",
    "apps.strategies",
    "apps.risk",
    "apps.trading",
    "apps.backtest",
    "apps.monitoring",
    "apps.dashboard",
    "apps.api",
    "apps.operations",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.core.middleware.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.dashboard.language.UserLanguageMiddleware",
    "apps.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (the system of record). Environments that allow
# the embedded SQLite default override `DATABASES` when it is empty.
DATABASE_URL = env.str("DATABASE_URL", default="")
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=3)


def postgres_database(url: str) -> dict:
    """A PostgreSQL database entry from a URL, with a short connect timeout."""
    config = env.db_url_config(url)
    config.setdefault("OPTIONS", {})["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
    if config.get("ENGINE") == "django.db.backends.postgresql":
        # The same backend, counting queries, errors and their durations for /metrics,
        # its pool checking connections only after they sat idle.
        config["ENGINE"] = "apps.core.pooled_postgresql"
    return config


def sqlite_database(path: Path) -> dict:
    """The embedded default: WAL so that web, workers and streams share one file."""
    return {
        "ENGINE": "django_prometheus.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
            ),
        },
    }


if DATABASE_URL:
    DATABASES = {"default": postgres_database(DATABASE_URL)}
else:
    # A placeholder that fails loudly on use; the system check names DATABASE_URL.
    DATABASES = {"default": {"ENGINE": "django.db.backends.dummy"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, Channels layer, cache, shared counters and locks ------
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_HEALTH_TIMEOUT = env.float("REDIS_HEALTH_TIMEOUT", default=1.0)
# /readyz answers within this many seconds whatever its checks do.
READINESS_TIMEOUT = env.float("READINESS_TIMEOUT", default=2.0)


def redis_backed(url: str, prefix: str = "spotdesk") -> dict:
    """Cache, Channels layer and Celery broker on one Redis URL."""
    return {
        "CACHES": {
            "default": {
                # django-redis, wrapped by django-prometheus: hits, misses and calls
                # on /metrics.
                "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": prefix,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
            }
        },
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                # The layer waits for messages with a 5 s BZPOPMIN; redis-py 8 reads
                # with a 5 s socket timeout by default, so a channel quiet for 5 s
                # closed live sockets (1011). Reads must outlast the wait.
                # Every consumer of one web process shares one Redis queue, and
                # messages past `capacity` are dropped: 100 (the default) is lost
                # events as soon as a process with hundreds of sockets lags a second.
                "CONFIG": {
                    "hosts": [{"address": url, "socket_timeout": 15}],
                    "prefix": prefix,
                    "capacity": 5000,
                },
            }
        },
        "CELERY_BROKER_URL": env.str("CELERY_BROKER_URL", default=url),
    }


CACHES = {"default": {"BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CELERY_BROKER_URL = ""
if REDIS_URL:
    globals().update(redis_backed(REDIS_URL))

# --- Celery (read by celery_worker with namespace CELERY) ------------------------
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Longer than the longest task (hard limit) so a running task is never redelivered,
# short enough that a killed worker's task comes back within minutes.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=600)
CELERY_TASK_ALWAYS_EAGER = False
WORKER_HEARTBEAT_INTERVAL = env.int("WORKER_HEARTBEAT_INTERVAL", default=15)
# The single beat's Redis lease expires this long after a beat dies without releasing it.
BEAT_LEASE_TTL_SECONDS = env.int("BEAT_LEASE_TTL_SECONDS", default=60)
# Dashboard exports (XLSX, PDF) larger than this many rows are built by a task on the
# `default` queue, with progress on the page; CSV always streams.
DASHBOARD_EXPORT_BACKGROUND_ROWS = env.int("DASHBOARD_EXPORT_BACKGROUND_ROWS", default=5000)
WORKER_HEARTBEAT_TTL = env.int("WORKER_HEARTBEAT_TTL", default=60)

# --- Security-sensitive keys -----------------------------------------------------
# Where the Fernet keys for secrets at rest come from: env | file | aws | vault.
FIELD_ENCRYPTION_KEY_SOURCE = env.str("FIELD_ENCRYPTION_KEY_SOURCE", default="env")
# env: Fernet keys (urlsafe base64, 32 bytes), newest first; older ones only decrypt.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# file: one key per line (or comma-separated), newest first, e.g. a Docker secret.
FIELD_ENCRYPTION_KEYS_FILE = env.str("FIELD_ENCRYPTION_KEYS_FILE", default="")
# aws: a Secrets Manager secret whose string holds the keys (list, {"keys": [...]} or CSV).
FIELD_ENCRYPTION_AWS_SECRET_ID = env.str("FIELD_ENCRYPTION_AWS_SECRET_ID", default="")
FIELD_ENCRYPTION_AWS_REGION = env.str("FIELD_ENCRYPTION_AWS_REGION", default="")
FIELD_ENCRYPTION_AWS_ENDPOINT_URL = env.str("FIELD_ENCRYPTION_AWS_ENDPOINT_URL", default="")
# vault: HashiCorp Vault KV v2, GET <addr>/v1/<mount>/data/<path>, keys in <field>.
FIELD_ENCRYPTION_VAULT_ADDR = env.str("FIELD_ENCRYPTION_VAULT_ADDR", default="")
FIELD_ENCRYPTION_VAULT_TOKEN = env.str("FIELD_ENCRYPTION_VAULT_TOKEN", default="")
FIELD_ENCRYPTION_VAULT_TOKEN_FILE = env.str("FIELD_ENCRYPTION_VAULT_TOKEN_FILE", default="")
FIELD_ENCRYPTION_VAULT_MOUNT = env.str("FIELD_ENCRYPTION_VAULT_MOUNT", default="secret")
FIELD_ENCRYPTION_VAULT_PATH = env.str("FIELD_ENCRYPTION_VAULT_PATH", default="")
FIELD_ENCRYPTION_VAULT_FIELD = env.str("FIELD_ENCRYPTION_VAULT_FIELD", default="keys")
FIELD_ENCRYPTION_VAULT_NAMESPACE = env.str("FIELD_ENCRYPTION_VAULT_NAMESPACE", default="")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Second factor (django-otp): sensitive actions need a code entered this recently.
SPOTDESK_STEP_UP_SECONDS = env.int("SPOTDESK_STEP_UP_SECONDS", default=300)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Spotdesk")
# The admin never shows TOTP seeds, QR codes or backup codes (enrolment shows them once).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A pending enrolment (password checked, authenticator not yet confirmed) lasts this long.
SPOTDESK_ENROLMENT_SECONDS = env.int("SPOTDESK_ENROLMENT_SECONDS", default=600)

# Brute-force lockout (django-axes): lock a username+address after AXES_FAILURE_LIMIT
# failures; failures older than the window are forgotten and a lockout lasts as long.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ADMIN = False  # apps.accounts registers its own view with an audited unlock
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "csrfmiddlewaretoken", "secret", "api_key"]

# Sessions: a working day at most, gone when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Metrics ---------------------------------------------------------------------
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Internationalisation --------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/admin/"

REST_FRAMEWORK = {
    # Tokens first: an unauthenticated request then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiTokenAuthentication",
        "apps.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.api.permissions.TokenScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["apps.api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.Cursor",
    "DEFAULT_FILTER_BACKENDS": [
        "apps.api.filters.DeclaredFilters",
        "apps.api.filters.Ordering",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.api.throttling.PerUserThrottle",
        "apps.api.throttling.PerAddressThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
        "address": env.str("API_THROTTLE_ADDRESS", default="3000/min"),
    },
    # Client addresses for the per-address throttle: trusted proxies in front of web.
    "NUM_PROXIES": env.int("AXES_PROXY_COUNT", default=0),
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Spotdesk API",
    "DESCRIPTION": (
        "REST API v1 of Spotdesk. Authenticate with a session (OTP-verified) or a personal "
        "API token: `Authorization: Token <token>`. Errors have one shape: "
        '`{"error": {"code", "message", "fields"}}`. Money and quantities are decimal strings.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "apps.accounts.models.AccountStatus",
        "KeyStateEnum": "apps.accounts.models.KeyState",
        "TokenScopeEnum": "apps.api.models.Scope",
        "BacktestStatusEnum": "apps.backtest.models.Status",
        "BacktestBatchKindEnum": "apps.backtest.models.BacktestBatch.Kind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["apps.api.permissions.SchemaReader"],
    "SERVE_AUTHENTICATION": [
        "apps.api.authentication.ApiTokenAuthentication",
        "apps.api.authentication.VerifiedSessionAuthentication",
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.add_error_responses",
    ],
}

# --- Logging ---------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = build_logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
# Exception reports (error mails, DEBUG pages) redact frame variables like the logs do.
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.core.exception_reports.SecretsRedactingFilter"

# --- Exchange gateway (apps/exchange; each name is documented in docs/exchange.md) -
# Processes sharing one egress IP share one weight budget: give each IP its own id.
EXCHANGE_EGRESS_ID = env.str("EXCHANGE_EGRESS_ID", default="default")
EXCHANGE_WEIGHT_BUDGET_FRACTION = env.str("EXCHANGE_WEIGHT_BUDGET_FRACTION", default="0.9")
EXCHANGE_LIMITER_MAX_WAIT = env.float("EXCHANGE_LIMITER_MAX_WAIT", default=70.0)
EXCHANGE_RECV_WINDOW_MS = env.int("EXCHANGE_RECV_WINDOW_MS", default=5000)
EXCHANGE_REQUEST_TIMEOUT = env.float("EXCHANGE_REQUEST_TIMEOUT", default=10.0)
EXCHANGE_READ_RETRY_ATTEMPTS = env.int("EXCHANGE_READ_RETRY_ATTEMPTS", default=4)
EXCHANGE_READ_RETRY_MAX_SECONDS = env.float("EXCHANGE_READ_RETRY_MAX_SECONDS", default=20.0)
EXCHANGE_UNKNOWN_ORDER_GRACE_SECONDS = env.float(
    "EXCHANGE_UNKNOWN_ORDER_GRACE_SECONDS", default=5.0
)
EXCHANGE_UNKNOWN_ORDER_DEADLINE_SECONDS = env.float(
    "EXCHANGE_UNKNOWN_ORDER_DEADLINE_SECONDS", default=30.0
)
EXCHANGE_TIME_SYNC_SAMPLES = env.int("EXCHANGE_TIME_SYNC_SAMPLES", default=5)
EXCHANGE_TIME_SYNC_MAX_AGE = env.float("EXCHANGE_TIME_SYNC_MAX_AGE", default=300.0)
EXCHANGE_BREAKER_FAILURES = env.int("EXCHANGE_BREAKER_FAILURES", default=5)
EXCHANGE_BREAKER_ERROR_RATE = env.float("EXCHANGE_BREAKER_ERROR_RATE", default=0.5)
EXCHANGE_BREAKER_OPEN_SECONDS = env.float("EXCHANGE_BREAKER_OPEN_SECONDS", default=30.0)
EXCHANGE_INFO_TTL = env.int("EXCHANGE_INFO_TTL", default=24 * 3600)
EXCHANGE_KEY_EXPIRY_WARNING_DAYS = env.int("EXCHANGE_KEY_EXPIRY_WARNING_DAYS", default=14)
EXCHANGE_TESTNET_URL = env.str("EXCHANGE_TESTNET_URL", default="https://testnet.binance.vision")
# Environments whose clock, connectivity and exchangeInfo beat keeps fresh.
EXCHANGE_ENVIRONMENTS_IN_USE = env.list("EXCHANGE_ENVIRONMENTS_IN_USE", default=["paper"])
# Saving or rotating a key asks the exchange about it (refusing withdrawal rights).
EXCHANGE_VERIFY_KEYS_ON_SAVE = env.bool("EXCHANGE_VERIFY_KEYS_ON_SAVE", default=True)

# --- Trading core (docs/trading.md) ----------------------------------------------
MARKETDATA_CANDLE_RETENTION_MONTHS = env.int("MARKETDATA_CANDLE_RETENTION_MONTHS", default=24)
MARKETDATA_PARTITIONS_AHEAD = env.int("MARKETDATA_PARTITIONS_AHEAD", default=3)
MARKETDATA_CACHE_WINDOW = env.int("MARKETDATA_CACHE_WINDOW", default=500)
MARKETDATA_CACHE_TTL_SECONDS = env.int("MARKETDATA_CACHE_TTL_SECONDS", default=3 * 86400)
MARKETDATA_WARMUP_CANDLES = env.int("MARKETDATA_WARMUP_CANDLES", default=300)
MARKETDATA_SYMBOLS_REFRESH_SECONDS = env.float("MARKETDATA_SYMBOLS_REFRESH_SECONDS", default=300)
MARKETDATA_TICKER_INTERVAL_SECONDS = env.float("MARKETDATA_TICKER_INTERVAL_SECONDS", default=1.0)
MARKETDATA_IMPORT_BATCH_SIZE = env.int("MARKETDATA_IMPORT_BATCH_SIZE", default=5000)
MARKETDATA_ARCHIVE_DIR = env.str("MARKETDATA_ARCHIVE_DIR", default=str(VAR_DIR / "archive"))
# Order books and their liquidity summaries in the streams process (docs/exchange.md).
MARKETDATA_ORDER_BOOKS = env.bool("MARKETDATA_ORDER_BOOKS", default=True)
MARKETDATA_LIQUIDITY_INTERVAL_SECONDS = env.float(
    "MARKETDATA_LIQUIDITY_INTERVAL_SECONDS", default=1.0
)
MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS = env.float(
    "MARKETDATA_LIQUIDITY_MAX_AGE_SECONDS", default=5.0
)
MARKETDATA_LIQUIDITY_LEVELS = env.int("MARKETDATA_LIQUIDITY_LEVELS", default=50)
TRADING_DECISION_RETENTION_MONTHS = env.int("TRADING_DECISION_RETENTION_MONTHS", default=12)
TRADING_ACCOUNT_LOCK_TTL_SECONDS = env.int("TRADING_ACCOUNT_LOCK_TTL_SECONDS", default=60)
TRADING_ACCOUNT_LOCK_WAIT_SECONDS = env.int("TRADING_ACCOUNT_LOCK_WAIT_SECONDS", default=10)
# A candle trigger older than this is refused: a redelivered task must not trade late.
TRADING_MAX_TRIGGER_AGE_SECONDS = env.int("TRADING_MAX_TRIGGER_AGE_SECONDS", default=120)
TRADING_TRIGGER_MEMORY_SECONDS = env.int("TRADING_TRIGGER_MEMORY_SECONDS", default=86400)

# --- Observability and notifications (docs/observability.md) -----------------------
# Workers and beat serve /metrics on this port (0: any free port; negative: off).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
STREAMS_METRICS_PORT = env.int("STREAMS_METRICS_PORT", default=9200)
METRICS_BIND_ADDRESS = env.str("METRICS_BIND_ADDRESS", default="127.0.0.1")
WORKER_STALE_RETENTION = env.int("WORKER_STALE_RETENTION", default=6 * 3600)
BEAT_HEARTBEAT_TTL = env.int("BEAT_HEARTBEAT_TTL", default=60)
STATUS_ALERT_HOURS = env.int("STATUS_ALERT_HOURS", default=24)
STREAMS_HEARTBEAT_STALE_SECONDS = env.int("STREAMS_HEARTBEAT_STALE_SECONDS", default=90)
# Trading alerts (apps/monitoring/trading_alerts.py, health_alerts.py, anomaly_watch.py).
ANOMALY_Z_THRESHOLD = env.float("ANOMALY_Z_THRESHOLD", default=3.0)
ANOMALY_WINDOW = env.int("ANOMALY_WINDOW", default=200)
ANOMALY_MIN_SAMPLES = env.int("ANOMALY_MIN_SAMPLES", default=30)
EXCHANGE_SLOW_MS = env.float("EXCHANGE_SLOW_MS", default=500.0)
DB_SLOW_QUERY_MS = env.float("DB_SLOW_QUERY_MS", default=500.0)
EXCHANGE_SLOW_SAMPLES = env.int("EXCHANGE_SLOW_SAMPLES", default=5)
ORDER_ERROR_RATE_THRESHOLD = env.float("ORDER_ERROR_RATE_THRESHOLD", default=0.05)
ORDER_ERROR_RATE_MIN_ORDERS = env.int("ORDER_ERROR_RATE_MIN_ORDERS", default=20)
PROCESS_MEMORY_ALERT_BYTES = env.int("PROCESS_MEMORY_ALERT_BYTES", default=1536 * 1024 * 1024)
# Optional OpenTelemetry tracing of the order path (apps/monitoring/tracing.py).
OTEL_ENABLED = env.bool("OTEL_ENABLED", default=False)
OTEL_EXPORTER = env.str("OTEL_EXPORTER", default="otlp")
NOTIFICATIONS_TELEGRAM_API_BASE = env.str(
    "NOTIFICATIONS_TELEGRAM_API_BASE", default="https://api.telegram.org"
)
NOTIFICATIONS_TIMEOUT = env.float("NOTIFICATIONS_TIMEOUT", default=10.0)
NOTIFICATIONS_GROUP_SECONDS = env.int("NOTIFICATIONS_GROUP_SECONDS", default=5)
NOTIFICATIONS_RATE_LIMIT_SECONDS = env.int("NOTIFICATIONS_RATE_LIMIT_SECONDS", default=300)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=10)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.int("NOTIFICATIONS_RETRY_MAX_SECONDS", default=300)
NOTIFICATIONS_SIGNATURE_TOLERANCE_SECONDS = env.int(
    "NOTIFICATIONS_SIGNATURE_TOLERANCE_SECONDS", default=300
)
# Organization webhooks may not target private, loopback or link-local addresses.
NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = env.bool("NOTIFICATIONS_ALLOW_PRIVATE_TARGETS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="spotdesk@localhost")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)

# --- Market data and the paper exchange ------------------------------------------
MARKET_DATA_DIR = env.str(
    "SPOTDESK_MARKET_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data")
)
PAPER_EXCHANGE_URL = env.str("PAPER_EXCHANGE_URL", default="http://127.0.0.1:9100")
