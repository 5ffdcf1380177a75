"""API test helpers: clients signed in by session (OTP-verified) or by token."""

import pytest
from django.test import Client

from apps.accounts.actors import Actor
from apps.api import tokens
from apps.api.throttling import KEY_PREFIX
from tests.accounts.factories import make_org, member, otp_login


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Every test starts with empty request counters (they live in Redis)."""
    from apps.core.redis import get_redis

    client = get_redis()
    keys = list(client.scan_iter(match=f"*{KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)
    return


def session_client(user, *, fresh: bool = True) -> Client:
    client = Client()
    otp_login(client, user, fresh=fresh)
    return client


def token_for(user, scope: str = "admin", days: int = 30) -> str:
    import time

    _token, raw = tokens.create_token(
        actor=Actor(user=user, otp_verified_at=time.time()),
        session_verified=True,
        name=f"test {scope}",
        scope=scope,
        days=days,
    )
    return raw


def token_client(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {raw}")


class Desk:
    """One organization with a member of every role."""

    def __init__(self, name: str | None = None):
        self.org = make_org(name)
        self.admin = member(self.org, "admin")
        self.risk_officer = member(self.org, "risk_officer")
        self.trader = member(self.org, "trader")
        self.viewer = member(self.org, "viewer")

    def user(self, role: str):
        return getattr(self, role)

    def viewer_with_device(self):
        """The viewer after enrolling an authenticator (so a session can be verified)."""
        from tests.accounts.factories import totp_device

        totp_device(self.viewer)
        return self.viewer


@pytest.fixture
def desk(db):
    return Desk()


@pytest.fixture
def other_desk(db):
    return Desk()


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
