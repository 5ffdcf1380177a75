"""Several processes share one IP's weight budget: no 429, and the budget is used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from apps.exchange.gateway import ExchangeGateway
from apps.paper_exchange.config import RateLimits
from tests.exchange.support.paper import start_paper_exchange
from tests.support.processes import PROJECT_ROOT, child_env


def run_processes(redis_client, egress, *, limit, window_s, windows, processes=4):
    server = start_paper_exchange(
        limits=RateLimits(weight=limit, weight_interval=(window_s, "S")), data_dir=None
    )
    try:
        env = child_env(PAPER_EXCHANGE_URL=server.url)
        from django.test import override_settings

        with override_settings(PAPER_EXCHANGE_URL=server.url):
            gateway = ExchangeGateway("paper", egress=egress, redis_client=redis_client)
            gateway.exchange_info()  # cached in Redis: every process reads the limits from it
            budget = gateway.limiter.limits.weight[0].limit
            window_ms = window_s * 1000
            now = gateway.exchange_now_ms()
            # Start on a window boundary after the processes have had time to boot.
            start = (now // window_ms + 1) * window_ms
            while start - now < 4000:
                start += window_ms
            end = start + windows * window_ms
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.exchange.support.load_driver",
                    egress,
                    str(start),
                    str(end),
                    str(seed),
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for seed in range(processes)
        ]
        results = []
        for child in children:
            out, err = child.communicate(timeout=(end - now) / 1000 + 120)
            assert child.returncode == 0, err[-2000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        server.stop()
    return results, budget


def _check(results, budget, windows):
    total = sum(item["weight"] for item in results)
    assert sum(item["rate_limited"] for item in results) == 0
    assert sum(item["errors"] for item in results) == 0
    used = total / (budget * windows)
    # The invariant is "no 429 and most of the budget used"; the figure itself (95.8%
    # on a quiet machine, docs/performance.md) belongs to the benchmark: a loaded CI
    # machine schedules four processes less evenly.
    assert used >= 0.6, f"used {used:.0%} of the budget"
    assert all(item["requests"] > 0 for item in results)  # nobody starved
    return used


def test_four_processes_share_the_budget_without_429(redis_client, egress):
    results, budget = run_processes(redis_client, egress, limit=300, window_s=3, windows=4)
    used = _check(results, budget, 4)
    print(f"4 processes, 4 windows of 3 s: {used:.1%} of the budget, no 429", results)


@pytest.mark.slow
def test_four_processes_for_two_minutes_at_production_limits(redis_client, egress):
    results, budget = run_processes(redis_client, egress, limit=6000, window_s=60, windows=2)
    used = _check(results, budget, 2)
    print(f"4 processes, 2 minutes: {used:.1%} of the budget, no 429", results)
