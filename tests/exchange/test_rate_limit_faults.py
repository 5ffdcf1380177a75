"""429 and 418 answers pause every client of the egress scope (through Redis)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from apps.exchange.errors import IpBannedError, RateLimitedError
from tests.support.processes import PROJECT_ROOT, child_env


def test_429_pauses_every_client_until_retry_after_then_resumes(fault_proxy, make_gateway):
    first, second = make_gateway(), make_gateway()  # share nothing but Redis
    first.ping()
    fault_proxy.plan.status_burst(429, count=1, retry_after=2)
    with pytest.raises(RateLimitedError):
        first.request("GET", "/api/v3/ping", retry=False)
    seen_before = fault_proxy.plan.requests_seen
    started = time.monotonic()
    assert second.ping() == {}  # waited for the shared pause, then went through
    assert time.monotonic() - started >= 1.5
    assert fault_proxy.plan.requests_seen == seen_before + 1
    started = time.monotonic()
    fault_proxy.plan.status_burst(429, count=1, retry_after=1)
    assert first.ping() == {}  # a read retries by itself after the pause
    assert time.monotonic() - started >= 0.8


def test_429_burst_pauses_all_processes_then_traffic_resumes(
    fault_proxy, make_gateway, redis_client, egress
):
    make_gateway().exchange_info()  # cached: the processes read the (generous) limits
    env = child_env(PAPER_EXCHANGE_URL=fault_proxy.url)
    now = make_gateway().exchange_now_ms()
    start, end = now + 1000, now + 14000
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
        for seed in range(3)
    ]
    # Inject once the processes are all booted and sending at full speed.
    baseline = fault_proxy.plan.requests_seen
    deadline = time.monotonic() + 10
    while fault_proxy.plan.requests_seen < baseline + 600 and time.monotonic() < deadline:
        time.sleep(0.01)
    fault_proxy.plan.status_burst(429, count=1, retry_after=2)
    results = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(item["rate_limited"] for item in results) == 1
    arrivals = fault_proxy.plan.arrivals
    hit = next(at for at, kind in arrivals if kind == "status_429")
    # Requests already in flight may land just after the 429; then nothing for 2 s.
    during = [at for at, _ in arrivals if hit + 0.1 < at < hit + 1.9]
    after = [at for at, _ in arrivals if at > hit + 2.0]
    before = [at for at, _ in arrivals if hit - 1.0 < at < hit]
    assert during == []
    assert len(before) > 50, "traffic was flowing before the 429"
    assert len(after) > 50, "traffic resumed after Retry-After"


@pytest.mark.django_db
def test_418_stops_everyone_and_raises_one_alert(fault_proxy, make_gateway, settings):
    from apps.monitoring.models import Alert

    settings.EXCHANGE_LIMITER_MAX_WAIT = 0.5
    first, second = make_gateway(), make_gateway()
    fault_proxy.plan.status_burst(418, count=1, retry_after=3)
    with pytest.raises(IpBannedError):
        first.ping()
    assert first.limiter.banned()
    seen = fault_proxy.plan.requests_seen
    with pytest.raises(IpBannedError):
        second.ping()  # refused by the shared ban, nothing sent
    assert fault_proxy.plan.requests_seen == seen
    alerts = Alert.objects.filter(event="exchange_ip_banned")
    assert alerts.count() == 1
    assert alerts.get().severity == "critical"
    settings.EXCHANGE_LIMITER_MAX_WAIT = 10
    started = time.monotonic()
    assert second.ping() == {}  # resumes after the ban
    assert time.monotonic() - started >= 1.5


def test_reads_retry_transient_5xx(fault_proxy, make_gateway):
    gateway = make_gateway()
    fault_proxy.plan.read_error_rate = 0.5
    for _ in range(10):
        assert len(gateway.klines("BTCUSDT", "1m", limit=2)) == 2
    fault_proxy.plan.read_error_rate = 0
    assert fault_proxy.plan.injected["read_502"] >= 2


def test_an_absurd_retry_after_is_bounded(fault_proxy, make_gateway):
    # Regression: a Retry-After of 236,728,448 s (7.5 years) paused every process.
    gateway = make_gateway()
    fault_proxy.plan.status_burst(429, count=1, retry_after=236_728_448)
    with pytest.raises(RateLimitedError):
        gateway.ping()
    assert 0 < gateway.limiter.paused_for() <= 24 * 3600
