"""Cost of sending one live event from sync code (a worker's cycle thread, the streams'
sync thread), against the way it was sent before.

Ours: `apps.dashboard.events._group_send`, one long-lived event loop per process.
Reference, in the same run: `async_to_sync(layer.group_send)` from a thread without a
running loop, which starts a new event loop, thread and channel-layer connection per
call. Same Redis channel layer, same group and message; the ratio is reference time /
our time (above 1: ours is cheaper).

    .venv/bin/python bench/live_event_send.py [--sends 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    import django
    from report import ratio

    django.setup()
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from apps.dashboard.events import MESSAGE_TYPE, _group_send

    layer = get_channel_layer()
    group = "live.bench.send"
    message = {"type": MESSAGE_TYPE, "event": {"kind": "decision", "data": {"bench": True}}}

    def timed(send) -> float:
        started = time.perf_counter()
        for _ in range(options.sends):
            send()
        return (time.perf_counter() - started) / options.sends

    ours, reference = [], []
    for _ in range(options.rounds):  # alternating, so a busy neighbour slows both alike
        ours.append(timed(lambda: _group_send(layer, group, message)))
        reference.append(timed(lambda: async_to_sync(layer.group_send)(group, message)))
    mine, theirs = statistics.median(ours), statistics.median(reference)
    print(f"long-lived loop : {mine * 1000:.2f} ms per send (median of {options.rounds} rounds)")
    print(f"async_to_sync   : {theirs * 1000:.2f} ms per send")
    print(f"ratio           : {theirs / mine:.1f}x cheaper")
    ratio("live_events.send_vs_async_to_sync", theirs / mine)


if __name__ == "__main__":
    main()
