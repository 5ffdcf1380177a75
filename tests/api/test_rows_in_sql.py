"""Rows rendered by PostgreSQL (apps/api/serializers/rows_in_sql.py) are the rows the
serializers write: byte for byte where the serializer's text is the only form,
document for document for JSON columns; through the API, page after page, in other
time zones, and with DRF's path kept wherever the response is not written by orjson."""

import datetime
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from apps.api.renderers import FastJSONRenderer
from apps.api.serializers import rows_in_sql
from apps.api.serializers import trading as trading_serializers
from apps.api.serializers.rows import ReadOnlyRowSerializer
from apps.trading.models import Decision, Order
from tests.api.conftest import token_client, token_for
from tests.api.trading_world import ROW_SERIALIZERS, TradingWorld

pytestmark = pytest.mark.django_db

# The resource lists, and whether their rows hold a JSON column (compared as documents).
LISTS = [
    ("/api/v1/orders/", False),
    ("/api/v1/fills/", False),
    ("/api/v1/positions/", False),
    ("/api/v1/trades/", False),
    ("/api/v1/cash-flows/", False),
    ("/api/v1/equity/", False),
    ("/api/v1/decisions/", True),
]
INDENTED = "application/json; indent=2"  # written by DRF's encoder: the Python path
ZONES = ["UTC", "America/Sao_Paulo", "Asia/Kolkata", "Europe/London"]


def _in_sql(serializer_class, queryset) -> list[bytes]:
    """The rows as the response carries them (the renderer escapes line separators in
    the whole document, spliced rows included)."""
    plan = rows_in_sql.plan_for(serializer_class)
    rows = plan.select(queryset.order_by("pk"), ["id"], rows_in_sql.active_zone_name())
    return [_escaped(row[rows_in_sql.ROW_ALIAS].encode()) for row in rows]


def _escaped(text: bytes) -> bytes:
    return text.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")


def _in_python(serializer_class, queryset) -> list[bytes]:
    data = serializer_class(list(queryset.order_by("pk")), many=True).data
    return [FastJSONRenderer().render(dict(row)) for row in data]


def _awkward_order(world, n: int = 0) -> Order:
    """An order whose every column tests the rendering: quotes, escapes, line
    separators and non-ASCII text, nulls, negative and long decimals, a datetime on a
    whole second."""
    order = Order.objects.get(pk=world.entry.pk)
    order.pk = None
    order.client_order_id = f'{n}q"uote\\back/slash\nnew\tline\u2028\u00e9\u4e2d\x01'[:36]
    order.status_reason = "emoji \U0001f600 and 'single' quotes"
    order.price = Decimal("-0.000000000000000001")
    order.quantity = Decimal("123456789.123456789012345678")
    order.stop_price = None
    order.decision = None
    order.save()
    whole_second = datetime.datetime(2026, 7, 1, 12, 0, 0, tzinfo=datetime.UTC)
    Order.objects.filter(pk=order.pk).update(created_at=whole_second)
    order.refresh_from_db()
    return order


def test_every_row_serializer_of_the_large_lists_has_a_plan():
    planned = {s.Meta.model.__name__ for s in ROW_SERIALIZERS if rows_in_sql.plan_for(s)}
    assert planned >= {"Order", "Fill", "Position", "Trade", "Decision", "CashFlow"}


@pytest.mark.parametrize("serializer_class", ROW_SERIALIZERS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("zone", ZONES)
def test_rows_in_sql_equal_the_serializers_rows(serializer_class, zone):
    world = TradingWorld()
    _awkward_order(world)
    queryset = serializer_class.Meta.model.objects.all()
    with timezone.override(zone):
        in_sql = _in_sql(serializer_class, queryset)
        in_python = _in_python(serializer_class, queryset)
    assert in_sql
    assert len(in_sql) == len(in_python)
    if serializer_class is trading_serializers.DecisionSerializer:
        # JSON columns: the same documents, spaced as PostgreSQL writes them.
        assert [json.loads(r) for r in in_sql] == [json.loads(r) for r in in_python]
    else:
        assert in_sql == in_python


def test_awkward_text_decimals_and_whole_seconds_come_out_as_the_serializer_writes():
    world = TradingWorld()
    order = _awkward_order(world)
    (row,) = _in_sql(trading_serializers.OrderSerializer, Order.objects.filter(pk=order.pk))
    parsed = json.loads(row)
    assert parsed["client_order_id"] == order.client_order_id
    assert parsed["price"] == "-0.000000000000000001"
    assert parsed["stop_price"] is None
    assert parsed["created_at"] == "2026-07-01T12:00:00Z"


@pytest.mark.parametrize(
    ("zone", "moment", "expected"),
    [
        ("America/Sao_Paulo", (2026, 7, 1, 12, 0, 0, 5), "2026-07-01T09:00:00.000005-03:00"),
        ("Asia/Kolkata", (2026, 1, 2, 0, 0, 0, 0), "2026-01-02T05:30:00+05:30"),
        ("Europe/London", (2026, 1, 2, 0, 0, 0, 0), "2026-01-02T00:00:00Z"),
        ("Europe/London", (2026, 7, 2, 0, 0, 0, 0), "2026-07-02T01:00:00+01:00"),
        # Amsterdam's mean time until 1937: an offset with seconds, as Python writes it.
        ("Europe/Amsterdam", (1930, 1, 1, 0, 0, 0, 0), "1930-01-01T00:19:32+00:19:32"),
    ],
)
def test_datetimes_in_any_zone_match_python(zone, moment, expected):
    world = TradingWorld()
    when = datetime.datetime(*moment, tzinfo=datetime.UTC)
    Order.objects.filter(pk=world.entry.pk).update(created_at=when)
    assert when.astimezone(ZoneInfo(zone)).isoformat().replace("+00:00", "Z") == expected
    queryset = Order.objects.filter(pk=world.entry.pk)
    with timezone.override(zone):
        (row,) = _in_sql(trading_serializers.OrderSerializer, queryset)
        (python,) = _in_python(trading_serializers.OrderSerializer, queryset)
    assert json.loads(row)["created_at"] == expected
    assert row == python


@pytest.mark.parametrize(("path", "json_columns"), LISTS)
def test_the_api_pages_are_the_pages_of_drfs_path(path, json_columns):
    world = TradingWorld()
    _awkward_order(world)
    client = token_client(token_for(world.desk.viewer, scope="read"))
    fast = client.get(path, {"page_size": 1})
    python = client.get(path, {"page_size": 1}, HTTP_ACCEPT=INDENTED)
    assert fast.status_code == python.status_code == 200
    body, reference = json.loads(fast.content), json.loads(python.content)
    assert body["results"], f"{path} has no rows"
    assert body == reference
    if not json_columns:
        # Compact output of the same document, byte for byte.
        assert fast.content == _escaped(orjson.dumps(reference))


def test_the_list_query_selects_json_rows_and_builds_no_model_instances(monkeypatch):
    world = TradingWorld()
    client = token_client(token_for(world.desk.viewer, scope="read"))
    built = []
    monkeypatch.setattr(Order, "from_db", classmethod(lambda cls, *a: built.append(a)))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/orders/")
    assert response.status_code == 200
    assert response.json()["results"]
    assert built == []
    assert any("to_json(" in q["sql"] for q in queries.captured_queries)


def test_line_separators_are_escaped_in_spliced_rows():
    world = TradingWorld()
    order = _awkward_order(world)
    client = token_client(token_for(world.desk.viewer, scope="read"))
    content = client.get("/api/v1/orders/", {"client_order_id": order.client_order_id}).content
    assert b"\\u2028" in content
    assert "\u2028".encode() not in content
    assert json.loads(content)["results"][0]["client_order_id"] == order.client_order_id


def test_walking_every_page_gives_the_same_rows_and_links_on_both_paths():
    world = TradingWorld()
    for n in range(4):
        _awkward_order(world, n)  # several orders with one created_at: cursor offsets
    client = token_client(token_for(world.desk.viewer, scope="read"))

    def walk(**headers):
        seen, links, url = [], [], "/api/v1/orders/?page_size=2&ordering=-created_at"
        while url:
            body = json.loads(client.get(url, **headers).content)
            seen += [row["id"] for row in body["results"]]
            links.append((body["next"], body["previous"]))
            url = body["next"]
        return seen, links

    fast, python = walk(), walk(HTTP_ACCEPT=INDENTED)
    assert fast == python
    ids = fast[0]
    assert len(ids) == len(set(ids)) == Order.objects.count()


def test_a_zone_without_an_iana_name_renders_in_python():
    world = TradingWorld()
    client = token_client(token_for(world.desk.viewer, scope="read"))
    offset = datetime.timezone(datetime.timedelta(hours=3))
    with timezone.override(offset), CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/orders/").json()
    assert body["results"][0]["created_at"].endswith("+03:00")
    assert not any("to_json(" in q["sql"] for q in queries.captured_queries)


class _WithAMethodField(ReadOnlyRowSerializer):
    label = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = ["id", "label"]

    def get_label(self, decision):
        return f"decision {decision.pk}"


class _WithAFloat(ReadOnlyRowSerializer):
    ratio = serializers.FloatField(source="id")

    class Meta:
        model = Order
        fields = ["id", "ratio"]


@pytest.mark.parametrize(
    "serializer_class",
    [_WithAMethodField, _WithAFloat, trading_serializers.StrategyConfigSerializer],
    ids=["method field", "float", "not a row serializer"],
)
def test_serializers_with_fields_sql_cannot_write_have_no_plan(serializer_class):
    assert rows_in_sql.plan_for(serializer_class) is None


def test_rows_of_a_query_joined_to_another_table_read_the_queried_table():
    world = TradingWorld()
    joined = Order.objects.filter(account__organization=world.desk.org, account__name__gt="")
    assert "JOIN" in str(joined.query)
    with timezone.override("UTC"):
        in_sql = _in_sql(trading_serializers.OrderSerializer, joined)
        in_python = _in_python(trading_serializers.OrderSerializer, joined)
    assert in_sql
    assert in_sql == in_python


def test_a_plans_sql_is_built_once_per_zone_and_reused():
    world = TradingWorld()
    rows_in_sql._COMPILED.clear()
    queryset = Order.objects.filter(pk=world.entry.pk)
    with timezone.override("UTC"):
        first = _in_sql(trading_serializers.OrderSerializer, queryset)
        again = _in_sql(trading_serializers.OrderSerializer, queryset)
    assert first == again
    assert len(rows_in_sql._COMPILED) == 1
    with timezone.override("Asia/Kolkata"):
        (kolkata,) = _in_sql(trading_serializers.OrderSerializer, queryset)
    assert len(rows_in_sql._COMPILED) == 2
    assert json.loads(kolkata)["created_at"].endswith("+05:30")


class _WithAProperty(ReadOnlyRowSerializer):
    label = serializers.CharField(source="__str__")

    class Meta:
        model = Order
        fields = ["id", "label"]


def test_a_field_read_from_a_method_has_no_plan():
    assert rows_in_sql.plan_for(_WithAProperty) is None
