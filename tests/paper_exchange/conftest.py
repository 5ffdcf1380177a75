"""Fixtures: a paper exchange on an ephemeral loopback port, provisioned accounts, and
unmodified python-binance / ccxt clients pointed at it by URL."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from apps.paper_exchange.config import ExchangeConfig, RateLimits, default_data_dir
from apps.paper_exchange.server.app import ServerThread

ADMIN_TOKEN = "test-admin-token"


class Admin:
    """The admin endpoint, as tests and the demo use it."""

    def __init__(self, url: str, token: str = ADMIN_TOKEN):
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def create_key(self, balances: dict | None = None, **options) -> dict:
        body = {"balances": balances or {}, **options}
        response = self.session.post(f"{self.url}/admin/keys", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def set_balances(self, api_key: str, balances: dict) -> dict:
        body = {"apiKey": api_key, "balances": balances}
        response = self.session.post(f"{self.url}/admin/balances", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def advance(self, milliseconds: int) -> int:
        response = self.session.post(
            f"{self.url}/admin/clock/advance", json={"ms": milliseconds}, timeout=60
        )
        response.raise_for_status()
        return response.json()["marketTime"]

    def post(self, path: str, body: dict | None = None) -> dict:
        """Any other admin call (faults, streams, symbols)."""
        response = self.session.post(f"{self.url}{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    def faults(self, **body) -> dict:
        return self.post("/admin/faults", body)

    def clear_faults(self) -> dict:
        response = self.session.delete(f"{self.url}/admin/faults", timeout=10)
        response.raise_for_status()
        return response.json()

    def streams(self, action: str, **body) -> dict:
        return self.post("/admin/streams", {"action": action, **body})


def make_config(**overrides) -> ExchangeConfig:
    options = dict(
        port=0,
        test_clock=True,
        admin_token=ADMIN_TOKEN,
        synthetic_history_days=2,
        data_dir=default_data_dir(),
        # The suite shares one IP; production limits would throttle it.
        limits=RateLimits(weight=10**7, raw_requests=10**8, orders_short=10**6, orders_long=10**7),
        tick_seconds=3600,
    )
    options.update(overrides)
    return ExchangeConfig(**options)


@pytest.fixture(scope="session")
def paper_server():
    server = ServerThread(make_config()).start()
    yield server
    server.stop()


@pytest.fixture
def admin(paper_server) -> Admin:
    return Admin(paper_server.url)


@pytest.fixture
def account(admin) -> dict:
    return admin.create_key({"USDT": "100000", "BTC": "1", "ETH": "10", "XRP": "50000"})


def point_client_at(client, url: str):
    """Aim an unmodified python-binance client at the paper exchange."""
    client.API_URL = f"{url}/api"
    client.MARGIN_API_URL = f"{url}/sapi"
    return client


@pytest.fixture
def client(paper_server, account):
    from binance.client import Client

    return point_client_at(
        Client(account["apiKey"], account["secretKey"], ping=False), paper_server.url
    )


@pytest.fixture
def balances(client):
    def read() -> dict[str, tuple[Decimal, Decimal]]:
        return {
            item["asset"]: (Decimal(item["free"]), Decimal(item["locked"]))
            for item in client.get_account()["balances"]
        }

    return read


def limited_config(**limits) -> ExchangeConfig:
    return make_config(limits=RateLimits(**limits), data_dir=None)
