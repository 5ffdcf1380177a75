"""The web process freezes its start-up heap (config/heap.py) with every view imported,
so the collector's full passes no longer walk Django, DRF and the apps."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
import config.asgi
frozen = gc.get_freeze_count()
views = "apps.api.views.trading" in sys.modules and "apps.dashboard.views" in sys.modules
garbage = []
garbage.append(garbage)  # a cycle made after start-up
del garbage
print(frozen, views, gc.collect() >= 1)
"""


def test_the_web_application_starts_with_its_views_imported_and_its_heap_frozen():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    ).stdout.split()  # fmt: skip
    frozen, views, collected = int(out[-3]), out[-2], out[-1]
    assert frozen > 100_000  # Django, DRF and the apps: several hundred thousand objects
    assert views == "True"  # the URLconf was loaded before freezing, not at a first request
    assert collected == "True"  # what is made afterwards is still collected
