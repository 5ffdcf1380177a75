"""The Channels layer keeps a burst for a busy web process: every consumer of one
process shares one Redis queue, and what goes past its capacity is dropped silently."""

from channels.layers import get_channel_layer

BURST = 600  # six times channels_redis' default capacity


async def test_a_burst_to_a_process_that_is_not_reading_is_kept_whole():
    layer = get_channel_layer()
    # Process-local channels of one layer (one web process) share one Redis key.
    channels = [await layer.new_channel() for _ in range(3)]
    for channel in channels:
        await layer.group_add("capacity-burst", channel)
    try:
        for n in range(BURST // len(channels)):
            await layer.group_send("capacity-burst", {"type": "live.event", "n": n})
        for channel in channels:
            received = [(await layer.receive(channel))["n"] for _ in range(BURST // 3)]
            assert received == list(range(BURST // 3))
    finally:
        for channel in channels:
            await layer.group_discard("capacity-burst", channel)
