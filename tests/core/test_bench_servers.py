"""bench/_servers.py: the CPU that other processes on the machine spend during a load
run (bench/api_load.py prints it per request beside the servers' own)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("bench_servers", ROOT / "bench" / "_servers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


servers = _load()

# Busy for a while, then says so and idles until told to stop.
_BUSY = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo busy-done; read _"


def test_the_cpu_of_named_processes_is_counted_between_two_readings():
    child = subprocess.Popen(
        ["sh", "-c", _BUSY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        before = servers.cpu_of_named(("sh",))
        assert child.pid in before
        assert child.stdout.readline().strip() == "busy-done"
        after = servers.cpu_of_named(("sh",))
        spent = servers.cpu_between({child.pid: before[child.pid]}, after)
        assert spent > 0.05
        # A process gone by the second reading is left out, not counted as negative.
        assert servers.cpu_between({child.pid: before[child.pid]}, {}) == 0
        assert servers.cpu_of_named(("no-such-process-name",)) == {}
    finally:
        child.communicate("\n", timeout=10)
