"""Connectivity samples, the /status view of the exchange, exchangeInfo snapshots."""

from __future__ import annotations

import pytest

from apps.exchange.breaker import CircuitBreaker
from apps.exchange.health import sample_connectivity
from apps.exchange.status import exchange_status


def test_connectivity_sample_and_status(paper_url, make_gateway, redis_client, settings):
    gateway = make_gateway()
    sample = sample_connectivity(gateway)
    assert sample["ping_ms"] >= 0
    assert abs(sample["offset_ms"]) < 50
    settings.EXCHANGE_BREAKER_FAILURES = 1
    CircuitBreaker(redis_client, "acct-9", "trading").record(False)
    gateway.limiter.pause(5)
    status = exchange_status(redis_client)
    assert status["connectivity"]["paper"]["ping_ms"] == sample["ping_ms"]
    assert status["time_offsets"]["paper"]["offset_ms"] == sample["offset_ms"]
    assert status["open_breakers"] == [{"account": "acct-9", "group": "trading", "state": "open"}]
    assert status["rate_limit_pauses"][gateway.scope]["banned"] is False


def test_connectivity_failure_is_recorded_not_raised(settings, redis_client, egress):
    from apps.exchange.gateway import ExchangeGateway

    settings.PAPER_EXCHANGE_URL = "http://127.0.0.1:9"  # nothing listens there
    sample = sample_connectivity(ExchangeGateway("paper", redis_client=redis_client, egress=egress))
    assert sample["error"] == "exchange_temporary"


@pytest.mark.django_db
def test_exchange_info_snapshot_warms_a_cold_cache(paper_url, make_gateway, redis_client):
    from apps.exchange.exchange_info import save_snapshot, warm_from_snapshot

    gateway = make_gateway()
    info = gateway.exchange_info(refresh=True)
    save_snapshot("paper", info)
    gateway.info_cache.invalidate()
    assert warm_from_snapshot(redis_client, "paper")
    assert gateway.info_cache.get()["symbols"] == info["symbols"]


@pytest.mark.django_db
def test_beat_tasks_run_against_the_paper_exchange(paper_url, redis_client):
    from apps.exchange.models import ExchangeInfoSnapshot
    from apps.exchange.tasks import (
        refresh_exchange_info,
        sample_exchange_connectivity,
        sync_exchange_time,
    )

    snapshot_id = refresh_exchange_info("paper")
    snapshot = ExchangeInfoSnapshot.objects.get(pk=snapshot_id)
    assert snapshot.symbol_count >= 5
    assert redis_client.exists("exchange:info:paper")
    sync_exchange_time("paper")
    assert redis_client.exists("exchange:time-offset:paper")
    assert "ping_ms" in sample_exchange_connectivity("paper")
