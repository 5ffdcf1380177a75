"""System checks: misconfiguration fails at start, never at the first trade.

Errors are raised only where `SPOTDESK_REQUIRE_PRODUCTION_CONFIG` is on (production
settings); every message names the setting and how to fix it.
"""

import base64
import binascii

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

HINT_FOR_DJANGO_KEY = (
    "Set SECRET_KEY to a random string of at least 50 characters, e.g. "
    '`python -c "import secrets; print(secrets.token_urlsafe(50))"`.'
)
FERNET_HINT = (
    "Set FIELD_ENCRYPTION_KEYS to a comma-separated list of Fernet keys (newest first), e.g. "
    '`python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`.'
)


def _require_production() -> bool:
    return getattr(settings, "SPOTDESK_REQUIRE_PRODUCTION_CONFIG", False)


def check_secret_key() -> list[Error]:
    try:
        key = settings.SECRET_KEY or ""
    except ImproperlyConfigured:  # Django refuses to hand out an empty SECRET_KEY
        key = ""
    if not key:
        return [Error("SECRET_KEY is not set.", hint=HINT_FOR_DJANGO_KEY, id="spotdesk.E001")]
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        return [
            Error(
                "SECRET_KEY is too weak: it needs at least 50 characters and 5 distinct ones.",
                hint=HINT_FOR_DJANGO_KEY,
                id="spotdesk.E001",
            )
        ]
    return []


def check_allowed_hosts() -> list[Error]:
    hosts = [h for h in settings.ALLOWED_HOSTS if h]
    if not hosts:
        return [
            Error(
                "ALLOWED_HOSTS is empty.",
                hint="Set ALLOWED_HOSTS to the comma-separated host names the site answers to.",
                id="spotdesk.E002",
            )
        ]
    if "*" in hosts:
        return [
            Error(
                "ALLOWED_HOSTS contains '*'.",
                hint="List the real host names: a wildcard allows Host-header attacks.",
                id="spotdesk.E002",
            )
        ]
    return []


def check_database(databases: dict | None = None) -> list[Error]:
    engine = (databases or settings.DATABASES).get("default", {}).get("ENGINE", "")
    # Django's backend, or the same one wrapped by django-prometheus for /metrics.
    if engine in (
        "django.db.backends.postgresql",
        "django_prometheus.db.backends.postgresql",
        "apps.core.pooled_postgresql",
    ):
        return []
    found = "not set" if engine.endswith("dummy") else f"uses {engine.rsplit('.', 1)[-1]}"
    return [
        Error(
            f"DATABASE_URL is {found}: production needs PostgreSQL, the system of record.",
            hint="Set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME.",
            id="spotdesk.E003",
        )
    ]


def check_redis() -> list[Error]:
    url = getattr(settings, "REDIS_URL", "")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return []
    return [
        Error(
            "REDIS_URL is not set or not a redis:// URL: Celery, Channels, the cache and the "
            "shared rate limits need Redis.",
            hint="Set REDIS_URL=redis://HOST:6379/0 (rediss:// for TLS).",
            id="spotdesk.E004",
        )
    ]


SOURCE_HINTS = {
    "file": "Set FIELD_ENCRYPTION_KEYS_FILE to a readable file with one Fernet key per line "
    "(newest first), e.g. a Docker or Kubernetes secret.",
    "aws": "Set FIELD_ENCRYPTION_AWS_SECRET_ID (and FIELD_ENCRYPTION_AWS_REGION) to a Secrets "
    "Manager secret holding the Fernet keys, readable by this process's credentials.",
    "vault": "Set FIELD_ENCRYPTION_VAULT_ADDR, FIELD_ENCRYPTION_VAULT_PATH and "
    "FIELD_ENCRYPTION_VAULT_TOKEN (or _TOKEN_FILE) to a KV v2 secret holding the keys.",
}


def _check_env_keys() -> list[Error]:
    keys = [k for k in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if k]
    if not keys:
        return [
            Error(
                "No encryption key source is configured: FIELD_ENCRYPTION_KEYS is empty, so "
                "exchange API keys could not be stored encrypted.",
                hint=FERNET_HINT,
                id="spotdesk.E005",
            )
        ]
    for position, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            return [
                Error(
                    f"FIELD_ENCRYPTION_KEYS entry {position} is not a Fernet key "
                    "(32 bytes, urlsafe base64).",
                    hint=FERNET_HINT,
                    id="spotdesk.E005",
                )
            ]
    return []


def check_encryption_keys() -> list[Error]:
    """The configured key source (FIELD_ENCRYPTION_KEY_SOURCE) delivers valid keys.

    Remote sources (AWS, Vault) are asked here, so a process with unreachable keys
    refuses to start instead of failing at the first key it must decrypt.
    """
    from apps.core.crypto.sources import SOURCE_SETTING, SOURCES, configured_source, load_keys
    from apps.core.errors import ConfigurationError

    source = configured_source()
    if source == "env":
        return _check_env_keys()
    if source not in SOURCES:
        return [
            Error(
                f"{SOURCE_SETTING}={source!r} is not a known encryption key source.",
                hint=f"Set {SOURCE_SETTING} to one of: {', '.join(SOURCES)}.",
                id="spotdesk.E005",
            )
        ]
    try:
        load_keys()
    except ConfigurationError as exc:
        return [
            Error(
                f"Encryption keys ({SOURCE_SETTING}={source}): {exc.message}",
                hint=SOURCE_HINTS[source],
                id="spotdesk.E005",
            )
        ]
    return []


PRODUCTION_CHECKS = (
    check_secret_key,
    check_allowed_hosts,
    check_database,
    check_redis,
    check_encryption_keys,
)


@register(Tags.security, deploy=False)
def production_configuration(app_configs=None, **kwargs) -> list[Error]:
    # Encryption keys are checked in every environment: without them nothing can
    # store an API key. The rest is production's contract.
    errors = check_encryption_keys()
    if _require_production():
        for check in PRODUCTION_CHECKS:
            if check is not check_encryption_keys:
                errors.extend(check())
    return errors
