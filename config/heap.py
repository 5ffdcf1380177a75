"""The web process's start-up heap, set aside from the garbage collector.

Everything imported at start (Django, DRF, every app, the URLconf's views) lives as long
as the process, yet the collector's oldest generation walks all of it again on each of
its passes: pauses of tens of milliseconds that land on whichever requests are in flight
(the API's p99 at 200 requests/s was 136-199 ms with them, 20-23 ms without:
docs/performance.md, "Load"). `gc.freeze()` moves what is alive after start-up to a
permanent generation the collector no longer scans; objects made later are collected
as before.
"""

import gc

from django.urls import get_resolver


def freeze_startup_heap() -> int:
    """Import the URLconf's views now (not at the first request), collect, and freeze
    what remains; the number of objects frozen."""
    get_resolver().url_patterns  # noqa: B018 - importing every view is the point
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
