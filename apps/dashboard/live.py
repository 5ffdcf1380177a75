"""Publishing to the live channel: the groups that WebSocket consumers listen on."""

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

HEARTBEAT_GROUP = "live.heartbeat"


def market_groups() -> tuple[str, ...]:
    """The live price groups of every exchange environment in use."""
    from django.conf import settings

    from apps.marketdata.tickers import ticker_group

    return tuple(ticker_group(env) for env in settings.EXCHANGE_ENVIRONMENTS_IN_USE)


def now_ms() -> int:
    return int(time.time() * 1000)


def publish_heartbeat() -> None:
    """Tell every connected live page that the platform's pipeline is alive."""
    async_to_sync(get_channel_layer().group_send)(
        HEARTBEAT_GROUP, {"type": "live.heartbeat", "server_time_ms": now_ms()}
    )
