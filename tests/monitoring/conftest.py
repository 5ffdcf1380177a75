import pytest

from tests.monitoring.receiver import start_receiver


@pytest.fixture
def receiver():
    """A loopback HTTP receiver speaking the Telegram, Slack and webhook shapes."""
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def notification_settings(settings, receiver):
    settings.NOTIFICATIONS_TELEGRAM_API_BASE = receiver.url
    settings.NOTIFICATIONS_GROUP_SECONDS = 0
    settings.NOTIFICATIONS_RATE_LIMIT_SECONDS = 300
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 0.05
    settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 0.2
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_TIMEOUT = 3
    settings.NOTIFICATIONS_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    return settings
