"""backfill_klines against the paper exchange: every closed kline once, paged."""

from __future__ import annotations

from itertools import pairwise

import pytest

from apps.exchange.gateway import ExchangeGateway
from apps.marketdata.backfill import backfill_klines
from apps.marketdata.models import Candle
from apps.paper_exchange.server.app import ServerThread
from tests.paper_exchange.conftest import Admin, make_config

MINUTE = 60_000
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def exchange():
    server = ServerThread(make_config()).start()
    yield server
    server.stop()


def test_backfill_pages_through_closed_klines_and_is_idempotent(settings, exchange, redis_client):
    settings.PAPER_EXCHANGE_URL = exchange.url
    now = Admin(exchange.url).advance(0)
    gateway = ExchangeGateway("paper")
    start = now - 1500 * MINUTE  # more than one page of 1000
    progress = []
    written = backfill_klines(
        gateway, environment="paper", symbol="BTCUSDT", interval="1m",
        start_ms=start, end_ms=now, progress=lambda *a: progress.append(a),
    )  # fmt: skip
    stored = list(
        Candle.objects.filter(symbol__name="BTCUSDT", interval="1m")
        .order_by("open_time")
        .values_list("open_time", flat=True)
    )
    opens = [int(t.timestamp() * 1000) for t in stored]
    assert written == len(opens) >= 1400
    assert opens == sorted(set(opens))
    assert opens[-1] == (now // MINUTE) * MINUTE - MINUTE  # the open kline is not stored
    assert all(b - a == MINUTE for a, b in pairwise(opens))
    assert len(progress) >= 2
    again = backfill_klines(
        gateway, environment="paper", symbol="BTCUSDT", interval="1m", start_ms=start, end_ms=now
    )
    assert again == written
    assert Candle.objects.filter(symbol__name="BTCUSDT", interval="1m").count() == len(opens)
