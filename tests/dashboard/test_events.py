"""Publishing after commit, over the real Redis channel layer."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core.errors import ValidationError
from apps.dashboard import sequence
from apps.dashboard.events import account_group, organization_group, publish
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def config(redis_client):
    sync_default_symbols()
    return make_config(active_account())


def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def _receive(channel: str) -> dict:
    return async_to_sync(get_channel_layer().receive)(channel)["event"]


def test_a_committed_order_reaches_its_account_and_organization_groups(config, redis_client):
    account = config.account
    listener = _listen(organization_group(account.organization_id))
    order = order_for(config)
    event = _receive(listener)
    assert (event["kind"], event["seq"], event["account"]) == ("order", 1, account.pk)
    assert event["data"]["client_order_id"] == order.client_order_id
    assert event["data"]["status"] == "pending"
    assert sequence.latest(redis_client, account_group(account.pk)) == 1


def test_a_rolled_back_change_publishes_nothing(config, redis_client):
    group = account_group(config.account_id)

    def fill_then_fail():
        with transaction.atomic():
            fill(order_for(config), price="60000", quantity="1")
            raise ValidationError("test", "roll back")

    with pytest.raises(ValidationError, match="roll back"):
        fill_then_fail()
    assert sequence.latest(redis_client, group) == 0


def test_a_broken_channel_layer_never_breaks_the_fill(config, redis_client, settings):
    order = order_for(config)
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens there
        }
    }
    _, created = fill(order, price="60000", quantity="1")
    assert created
    order.refresh_from_db()
    assert order.status == "filled"


def test_unknown_kinds_are_a_programming_error(redis_client):
    with pytest.raises(ValueError, match="unknown live event kind"):
        publish("gossip", account_id=1, organization_id=None, data={})
