"""Fixtures of the exchange gateway's suite: the paper exchange on loopback, real Redis,
and a fault proxy at the network boundary."""

from __future__ import annotations

import uuid

import pytest

from tests.exchange.support.fault_proxy import FaultPlan, FaultProxy
from tests.exchange.support.paper import PaperAdmin, start_paper_exchange


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "testnet: contract checks against the real Binance Spot testnet "
        "(skipped unless BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET are set)",
    )


@pytest.fixture(scope="session")
def paper_exchange():
    server = start_paper_exchange()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def paper_admin(paper_exchange) -> PaperAdmin:
    return PaperAdmin(paper_exchange.url)


@pytest.fixture
def egress() -> str:
    """A fresh limiter scope per test, so tests never share budgets."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def paper_url(settings, paper_exchange) -> str:
    settings.PAPER_EXCHANGE_URL = paper_exchange.url
    return paper_exchange.url


@pytest.fixture
def fault_proxy(settings, paper_exchange):
    proxy = FaultProxy(paper_exchange.url, FaultPlan(seed=20261124)).start()
    settings.PAPER_EXCHANGE_URL = proxy.url
    yield proxy
    proxy.stop()


@pytest.fixture
def paper_credentials(paper_admin):
    from apps.exchange.credentials import Credentials

    def make(balances: dict | None = None, **options) -> tuple[Credentials, dict]:
        key = paper_admin.create_key(
            balances or {"USDT": "1000000", "BTC": "10", "ETH": "100"}, **options
        )
        return Credentials(api_key=key["apiKey"], api_secret=key["secretKey"]), key

    return make


@pytest.fixture
def make_gateway(redis_client, egress):
    from apps.exchange.gateway import ExchangeGateway

    def make(credentials=None, account_id=None, **kwargs) -> ExchangeGateway:
        kwargs.setdefault("egress", egress)
        gateway = ExchangeGateway(
            "paper",
            credentials=credentials,
            account_id=account_id,
            redis_client=redis_client,
            **kwargs,
        )
        # The paper exchange's own (generous) limits, as production reads Binance's:
        # with Binance's defaults, heavy earlier tests on the same IP would make the
        # headers report more weight than the default budget and stall this test.
        gateway.exchange_info()
        return gateway

    return make
