"""The embedded default: one machine, SQLite in var/ unless DATABASE_URL is set.

For development and demos only: SQLite keeps about 15 significant digits of a decimal,
and PostgreSQL is the system of record.
"""

from apps.core.local_secrets import persistent_local_secret

from .base import *
from .base import BASE_DIR, VAR_DIR, env, redis_backed, sqlite_database

if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
LOG_FORMAT = env.str("LOG_FORMAT", default="console")

VAR_DIR.mkdir(parents=True, exist_ok=True)
# Generated once per checkout and kept under var/ (git-ignored), so a demo restarts
# with the same sessions and can still decrypt the keys it stored.
SECRET_KEY = env.str("SECRET_KEY", default="") or persistent_local_secret(
    VAR_DIR / "secret_key", kind="django"
)
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [
    persistent_local_secret(VAR_DIR / "field_encryption_key", kind="fernet")
]

# The demo's accounts hold placeholder keys until the demo seeds them on the paper
# exchange; turn verification on locally with EXCHANGE_VERIFY_KEYS_ON_SAVE=true.
EXCHANGE_VERIFY_KEYS_ON_SAVE = env.bool("EXCHANGE_VERIFY_KEYS_ON_SAVE", default=False)

DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    from .base import postgres_database

    DATABASES = {"default": postgres_database(DATABASE_URL)}
else:
    DATABASES = {"default": sqlite_database(VAR_DIR / "spotdesk.sqlite3")}

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
globals().update(redis_backed(REDIS_URL))

from apps.core.logging import build_logging_config  # noqa: E402

LOGGING = build_logging_config(level=env.str("LOG_LEVEL", default="INFO"), fmt=LOG_FORMAT)
