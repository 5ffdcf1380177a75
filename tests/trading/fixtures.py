"""Trading fixtures (a pytest plugin of the root conftest, so every package may use
them): the paper exchange on loopback as the real peer, accounts whose keys were
provisioned on it, and its symbols synced into the database."""

from __future__ import annotations

import pytest

from tests.exchange.support.paper import PaperAdmin, start_paper_exchange


@pytest.fixture(scope="session")
def trading_exchange():
    """The paper exchange trading tests talk to (test clock: market time moves only when
    a test advances it). Session-wide, so every worker process can reach it too."""
    server = start_paper_exchange()
    yield server
    server.stop()


@pytest.fixture
def exchange_admin(trading_exchange) -> PaperAdmin:
    return PaperAdmin(trading_exchange.url)


@pytest.fixture
def paper_market(settings, trading_exchange, redis_client):
    """Point the 'paper' environment at the test exchange and sync its symbols."""
    from apps.exchange.gateway import ExchangeGateway
    from apps.marketdata.services import sync_symbols

    settings.PAPER_EXCHANGE_URL = trading_exchange.url
    gateway = ExchangeGateway("paper", redis_client=redis_client)
    sync_symbols(environment="paper", exchange_info=gateway.exchange_info(refresh=True))
    return trading_exchange


@pytest.fixture
def paper_account(paper_market, exchange_admin):
    """make(balances=None, organization=None, **account_options) -> an active paper
    ExchangeAccount whose key exists on the test exchange with those balances."""
    from tests.trading.support import active_account

    def make(balances: dict | None = None, organization=None, **options):
        key = exchange_admin.create_key(balances or {"USDT": "100000"})
        account = active_account(
            organization, api_key=key["apiKey"], secret=key["secretKey"], **options
        )
        account.paper_key = key  # the exchange's view (accountId), for admin calls
        return account

    return make
