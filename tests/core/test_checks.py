"""Misconfiguration fails at start, naming every missing setting."""

import base64
import os
import secrets
import subprocess

import pytest

from apps.core import checks
from tests.support.processes import PROJECT_ROOT, VENV_BIN

GOOD_KEY = secrets.token_urlsafe(50)
GOOD_FERNET = base64.urlsafe_b64encode(os.urandom(32)).decode()


def ids(errors) -> list[str]:
    return [e.id for e in errors]


def test_empty_secret_key_is_reported(settings):
    settings.SECRET_KEY = ""
    errors = checks.check_secret_key()
    assert ids(errors) == ["spotdesk.E001"]
    assert "SECRET_KEY" in errors[0].msg


def test_short_secret_key_is_reported(settings):
    settings.SECRET_KEY = "short"
    assert ids(checks.check_secret_key()) == ["spotdesk.E001"]


def test_strong_secret_key_passes(settings):
    settings.SECRET_KEY = GOOD_KEY
    assert checks.check_secret_key() == []


@pytest.mark.parametrize("hosts", [[], [""], ["*"]])
def test_allowed_hosts_must_name_real_hosts(settings, hosts):
    settings.ALLOWED_HOSTS = hosts
    errors = checks.check_allowed_hosts()
    assert ids(errors) == ["spotdesk.E002"]
    assert "ALLOWED_HOSTS" in errors[0].msg


def test_database_must_be_postgresql():
    errors = checks.check_database({"default": {"ENGINE": "django.db.backends.sqlite3"}})
    assert ids(errors) == ["spotdesk.E003"]
    assert "DATABASE_URL" in errors[0].msg
    assert "sqlite3" in errors[0].msg


def test_postgresql_database_passes():
    # The test settings themselves use PostgreSQL.
    assert checks.check_database() == []


@pytest.mark.parametrize("url", ["", "http://127.0.0.1:6379"])
def test_redis_url_must_be_redis(settings, url):
    settings.REDIS_URL = url
    assert ids(checks.check_redis()) == ["spotdesk.E004"]


@pytest.mark.parametrize("keys", [[], ["not-a-key"], [GOOD_FERNET, "dG9vLXNob3J0"]])
def test_encryption_keys_must_be_fernet_keys(settings, keys):
    settings.FIELD_ENCRYPTION_KEYS = keys
    errors = checks.check_encryption_keys()
    assert ids(errors) == ["spotdesk.E005"]
    assert "FIELD_ENCRYPTION_KEYS" in errors[0].msg


def test_only_encryption_is_enforced_outside_production(settings):
    settings.SPOTDESK_REQUIRE_PRODUCTION_CONFIG = False
    settings.ALLOWED_HOSTS = []
    assert checks.production_configuration() == []
    settings.SPOTDESK_REQUIRE_PRODUCTION_CONFIG = True
    assert "spotdesk.E002" in ids(checks.production_configuration())


def _check_deploy(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    return subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_check_with_empty_environment_names_every_missing_setting():
    result = _check_deploy({})
    assert result.returncode != 0
    for setting in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
        assert setting in result.stderr, setting
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_production_check_with_complete_environment_passes():
    result = _check_deploy(
        {
            "SECRET_KEY": GOOD_KEY,
            "ALLOWED_HOSTS": "spotdesk.example.com",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "FIELD_ENCRYPTION_KEYS": GOOD_FERNET,
        }
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_celery_refuses_to_start_with_incomplete_production_configuration():
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [str(VENV_BIN / "celery"), "-A", "celery_worker", "worker", "--pool=solo"],
        cwd=PROJECT_ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "refusing to start" in result.stderr
    assert "SECRET_KEY" in result.stderr
