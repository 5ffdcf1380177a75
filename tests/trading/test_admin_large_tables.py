"""Orders and fills in the admin stay fast on tables of millions of rows: no COUNT(*)
over a list the planner expects to be large, pages along the primary key's index, and
no SELECT DISTINCT over every fill for the sidebar."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.paginators import EXACT_COUNT_BELOW, EstimatedCountPaginator
from apps.trading.models import Fill, Order
from tests.accounts.factories import make_user, otp_login
from tests.trading.support import active_account, fill, make_config, order_for, sync_default_symbols

pytestmark = pytest.mark.django_db

BULK = 2 * EXACT_COUNT_BELOW


@pytest.fixture
def large_tables(client):
    """BULK orders and BULK fills of one account (written by SQL: the services would
    take minutes), the planner's statistics refreshed, and a verified superuser."""
    sync_default_symbols()
    account = active_account()
    config = make_config(account)
    order = order_for(config, quantity="1")
    fill(order, price="60000", quantity="1")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO trading_order (created_at, updated_at, symbol, client_order_id,
                intent, order_type, side, time_in_force, quantity, executed_quantity,
                cumulative_quote_quantity, status, status_reason, external, needs_review,
                review_reason, account_id, strategy_config_id)
            SELECT now(), now(), 'BTCUSDT', 'bulk-' || g, 'entry', 'MARKET', 'BUY', '', 1, 1,
                60000, 'filled', '', false, false, '', %s, %s
            FROM generate_series(1, %s) g
            """,
            [account.pk, config.pk, BULK],
        )
        cursor.execute(
            """
            INSERT INTO trading_fill (created_at, updated_at, symbol, side, exchange_trade_id,
                price, quantity, quote_quantity, commission, commission_asset,
                commission_quote, quote_rate, is_maker, executed_at, source, account_id,
                order_id)
            SELECT now(), now(), 'BTCUSDT', 'BUY', 1000000 + g, 60000, 1, 60000, 0, 'USDT',
                0, 1, false, now(), 'reconciliation', %s, %s
            FROM generate_series(1, %s) g
            """,
            [account.pk, order.pk, BULK],
        )
        cursor.execute("ANALYZE trading_order")
        cursor.execute("ANALYZE trading_fill")
    otp_login(client, make_user(superuser=True))
    yield order
    # ANALYZE writes its row counts in place, past the test's rollback: leave the next
    # tests statistics of small tables again.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM trading_fill WHERE exchange_trade_id > 1000000")
        cursor.execute("DELETE FROM trading_order WHERE client_order_id LIKE 'bulk-%%'")
        cursor.execute("ANALYZE trading_order")
        cursor.execute("ANALYZE trading_fill")


def _counts(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and f'"{table}"' in q["sql"]]


@pytest.mark.parametrize(
    "path",
    ["/admin/trading/order/", "/admin/trading/order/?status__exact=filled&intent__exact=entry"],
)
def test_an_order_changelist_over_a_large_table_counts_nothing(client, large_tables, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert _counts(queries.captured_queries, "trading_order") == []
    changelist = response.context["cl"]
    # The planner's estimate stands in for the count: close to the truth, not exact.
    assert abs(changelist.result_count - (BULK + 1)) < BULK * 0.2
    assert changelist.full_result_count is None
    assert len(changelist.result_list) == changelist.list_per_page


@pytest.mark.parametrize("path", ["/admin/trading/fill/", "/admin/trading/fill/?side__exact=BUY"])
def test_a_fill_changelist_over_a_large_table_counts_nothing(client, large_tables, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert _counts(queries.captured_queries, "trading_fill") == []
    assert abs(response.context["cl"].result_count - (BULK + 1)) < BULK * 0.2


def test_a_search_that_finds_few_rows_is_counted_exactly(client, large_tables):
    response = client.get("/admin/trading/order/", {"q": large_tables.client_order_id})
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == 1
    assert [o.pk for o in changelist.result_list] == [large_tables.pk]


def test_orders_and_fills_are_listed_newest_first_by_primary_key(client, large_tables):
    for path, model in (("/admin/trading/order/", Order), ("/admin/trading/fill/", Fill)):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        table = model._meta.db_table
        page = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]][-1]
        assert f'ORDER BY "{table}"."id" DESC' in page
        shown = [row.pk for row in response.context["cl"].result_list]
        newest = list(model.objects.order_by("-id").values_list("pk", flat=True)[: len(shown)])
        assert shown == newest


def test_the_fill_source_filter_lists_known_sources_without_reading_the_table(client, large_tables):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/trading/fill/", {"source": "stream"})
    assert response.status_code == 200
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]
    changelist = response.context["cl"]
    # Only the one fill booked through the service came from the stream.
    assert [f.source for f in changelist.result_list] == ["stream"]
    assert changelist.result_count == 1


def test_the_paginator_counts_a_small_list_exactly(db):
    sync_default_symbols()
    config = make_config(active_account())
    for _ in range(3):
        order_for(config, quantity="1")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE trading_order")  # what autovacuum keeps up to date
    paginator = EstimatedCountPaginator(Order.objects.order_by("-id"), 2)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 3
    assert any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert paginator.num_pages == 2


def _listed(client, path: str, q: str) -> list:
    response = client.get(path, {"q": q})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_order_search_matches_whole_ids_and_symbols(client, large_tables):
    order = large_tables
    Order.objects.filter(pk=order.pk).update(exchange_order_id=987654321)
    path = "/admin/trading/order/"
    assert [o.pk for o in _listed(client, path, order.client_order_id)] == [order.pk]
    assert [o.pk for o in _listed(client, path, "987654321")] == [order.pk]
    # Part of an id is no match: a substring search would read every row.
    assert _listed(client, path, order.client_order_id[:-2]) == []
    assert _listed(client, path, "98765432") == []
    assert _listed(client, path, "ETHUSDT") == []
    assert len(_listed(client, path, "btcusdt")) == 100  # a full first page


def test_fill_search_finds_fills_by_their_orders_client_id(client, large_tables):
    order = large_tables
    booked = Fill.objects.get(order=order, source="stream")
    path = "/admin/trading/fill/"
    # Every bulk fill belongs to this order too.
    found = _listed(client, path, order.client_order_id)
    assert len(found) == 100
    assert {f.order_id for f in found} == {order.pk}
    unfilled = order_for(order.strategy_config, quantity="1")
    assert _listed(client, path, unfilled.client_order_id) == []
    assert [f.pk for f in _listed(client, path, str(booked.exchange_trade_id))] == [booked.pk]
    assert _listed(client, path, "no-such-order") == []
    assert len(_listed(client, path, "BTCUSDT")) == 100


@pytest.mark.parametrize(
    ("path", "table"),
    [("/admin/trading/order/", "trading_order"), ("/admin/trading/fill/", "trading_fill")],
)
def test_an_id_search_compares_no_symbol(client, large_tables, path, table):
    """The symbol has no index of its own: OR-ed with the id lookups, it made the page
    and its count read the whole table (a parallel sequential scan, 30 ms at 500,000
    fills against 0.1 ms)."""
    with CaptureQueriesContext(connection) as queries:
        _listed(client, path, large_tables.client_order_id)
    reads = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert reads
    assert not [sql for sql in reads if f'"{table}"."symbol" =' in sql]


def test_the_paginator_counts_an_empty_queryset(db):
    assert EstimatedCountPaginator(Order.objects.none(), 100).count == 0
