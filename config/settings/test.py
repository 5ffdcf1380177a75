"""Tests: real PostgreSQL and real Redis, as in production."""

from .base import *
from .base import env, postgres_database, redis_backed

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="test-only-secret-key-" + "x" * 40)
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    # A fixed key for the test suite only; never used outside tests.
    default=["dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5MDA="],
)

DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/spotdesk")
DATABASES = {"default": postgres_database(DATABASE_URL)}
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="spotdesk_test")}

# Database 15 keeps the suite away from a developer's running platform on db 0.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/15")
globals().update(redis_backed(REDIS_URL, prefix="spotdesk-test"))

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
LOG_FORMAT = "json"
# Tests talk to daphne directly, with no proxy in front to serve static files.
SPOTDESK_SERVE_STATIC = True
# Tests that verify keys install the verifier themselves, against a paper exchange.
EXCHANGE_VERIFY_KEYS_ON_SAVE = False
# A beat killed by a test frees the scheduler lease quickly for the next one.
BEAT_LEASE_TTL_SECONDS = env.int("BEAT_LEASE_TTL_SECONDS", default=5)
