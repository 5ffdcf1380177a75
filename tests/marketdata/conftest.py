import pytest


@pytest.fixture(scope="module")
def exchange():
    """A paper exchange on loopback for the module's stream tests."""
    from apps.paper_exchange.server.app import ServerThread
    from tests.paper_exchange.conftest import make_config

    server = ServerThread(make_config()).start()
    yield server
    server.stop()
