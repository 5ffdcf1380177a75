"""Per-user and per-address limits, counted in Redis, refused with 429 + Retry-After.

Limits here are per hour so that no test straddles the end of a counting window."""

import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from apps.api import throttling
from apps.api.throttling import parse_rate
from apps.core.redis import get_redis
from tests.api.conftest import error_of, session_client, token_client, token_for

pytestmark = pytest.mark.django_db


def rates(user: str, address: str):
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": user, "address": address},
        }
    )


def test_parse_rate():
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100/hour") == (100, 3600)


def test_a_user_over_their_limit_gets_429_with_retry_after(desk):
    mine, theirs = session_client(desk.viewer), session_client(desk.trader)
    with rates("3/hour", "1000/min"):
        codes = [mine.get("/api/v1/organizations/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = mine.get("/api/v1/organizations/")
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 3600
        assert error_of(refused)["code"] == "throttled"
        # Another user is counted separately.
        assert theirs.get("/api/v1/organizations/").status_code == 200


def test_the_user_limit_spans_sessions_and_tokens(desk):
    """The count is per user in Redis, not per client or per process."""
    with rates("2/hour", "1000/min"):
        assert session_client(desk.viewer).get("/api/v1/organizations/").status_code == 200
        raw = token_for(desk.viewer, "read")
        assert token_client(raw).get("/api/v1/organizations/").status_code == 200
        assert token_client(raw).get("/api/v1/organizations/").status_code == 429


def test_an_address_over_its_limit_is_refused_before_authentication(desk):
    with rates("1000/min", "3/hour"):
        anonymous = Client(REMOTE_ADDR="10.9.8.7")
        codes = [anonymous.get("/api/v1/organizations/").status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        # Bad tokens count too, and then even a valid session from there is refused.
        bad = Client(REMOTE_ADDR="10.9.8.7", HTTP_AUTHORIZATION="Token sdt_guess_guess")
        refused = bad.get("/api/v1/organizations/")
        assert refused.status_code == 429
        assert "Retry-After" in refused
        signed_in = session_client(desk.viewer)
        assert signed_in.get("/api/v1/organizations/", REMOTE_ADDR="10.9.8.7").status_code == 429
        # Another address is not affected.
        assert signed_in.get("/api/v1/organizations/", REMOTE_ADDR="10.9.8.8").status_code == 200


def test_one_request_counts_once_against_its_address(desk):
    with rates("1000/min", "4/hour"):
        client = session_client(desk.viewer)
        codes = [
            client.get("/api/v1/organizations/", REMOTE_ADDR="10.0.0.5").status_code
            for _ in range(5)
        ]
        assert codes == [200, 200, 200, 200, 429]


def _window_key(name: str) -> str:
    return f"api-throttle:test:{name}:{uuid.uuid4().hex}"


def test_a_window_counts_in_redis_in_one_command_and_expires_with_the_window(monkeypatch):
    key = _window_key("one-command")
    commands = []
    assert throttling._key_in_redis(key) == cache.make_key(key), "the tests' cache is Redis"
    client = get_redis()
    original = type(client).execute_command

    def counted(self, *args, **options):
        commands.append(args[0])
        return original(self, *args, **options)

    monkeypatch.setattr(type(client), "execute_command", counted)
    assert [throttling.count_in_window(key, 30) for _ in range(3)] == [1, 2, 3]
    assert len(commands) == 3  # one round trip per count (EVALSHA)
    monkeypatch.undo()
    assert cache.get(key) == 3  # the cache's own key and value
    assert 0 < cache.ttl(key) <= 30


def test_a_window_that_expired_starts_again_with_its_expiry():
    key = _window_key("expired")
    throttling.count_in_window(key, 30)
    cache.delete(key)  # as if its window ran out between two requests
    assert throttling.count_in_window(key, 30) == 1
    assert 0 < cache.ttl(key) <= 30


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_other_cache_backends_count_through_djangos_calls():
    key = _window_key("locmem")
    assert throttling._key_in_redis(key) is None
    assert [throttling.count_in_window(key, 30) for _ in range(2)] == [1, 2]
