"""The API's list endpoints never count their rows: cursor pages ask for one row more
than they show instead, so a request costs the same on a table of a million rows."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.strategies.engine.signals import Action, Signal
from apps.trading.services import record_decision
from tests.api.conftest import token_client, token_for
from tests.api.trading_world import TradingWorld, round_trip

pytestmark = pytest.mark.django_db

LISTS = ("orders", "fills", "positions", "decisions", "trades")


@pytest.mark.parametrize("resource", LISTS)
def test_a_list_and_its_next_page_issue_no_count(resource):
    world = TradingWorld()
    # A second round trip and decision: every list then has a next page.
    round_trip(world.config, buy="100", sell="105")
    signal = Signal(Action.HOLD, "flat", "trend_following", "1.0", "BTCUSDT", "1h", None)
    record_decision(
        config=world.config, symbol="BTCUSDT", signal=signal, fingerprint="f",
        candle_open_time=datetime(2026, 1, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    client = token_client(token_for(world.desk.viewer, scope="read"))
    with CaptureQueriesContext(connection) as queries:
        first = client.get(f"/api/v1/{resource}/", {"page_size": 1})
    assert first.status_code == 200, first.content
    body = first.json()
    assert set(body) >= {"next", "previous", "results"}
    assert "count" not in body
    assert len(body["results"]) == 1
    assert body["next"], "the world holds more than one row of every list"
    with CaptureQueriesContext(connection) as next_queries:
        following = client.get(body["next"])
    assert following.status_code == 200
    assert following.json()["results"][0]["id"] != body["results"][0]["id"]
    counted = [
        q["sql"]
        for q in (*queries.captured_queries, *next_queries.captured_queries)
        if "COUNT(" in q["sql"].upper()
    ]
    assert counted == []
