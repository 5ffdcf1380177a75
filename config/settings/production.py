"""Production: PostgreSQL with psycopg's pool, Redis, TLS behind a proxy.

Nothing here has a usable default for a secret or a backing service: the system checks
in `apps.core.checks` refuse to start and name each missing setting.
"""

from .base import *
from .base import DATABASE_URL, env, postgres_database

DEBUG = False
SPOTDESK_REQUIRE_PRODUCTION_CONFIG = True
SPOTDESK_CHECKS_AT_START = env.bool("SPOTDESK_CHECKS_AT_START", default=True)

if DATABASE_URL.startswith(("postgres://", "postgresql://", "pgsql://")):
    DATABASES = {"default": postgres_database(DATABASE_URL)}
    # Django's pool owns the connections, so persistent connections must be off.
    # The backend (apps/core/pooled_postgresql) checks a connection only after it sat
    # idle, not on every checkout as Django's health checks would. (A `check` in the
    # pool options makes every connection attempt fail: Django passes its own.)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and scrapers talk plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HSTS preload is a commitment for the whole domain; an operator opts in explicitly.
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=["security.W021"])
