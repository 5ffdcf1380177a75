"""The list endpoints' fast row rendering (apps/api/serializers/rows.py) gives exactly
what DRF's generic ModelSerializer path gives, on real rows of every resource it
serves, None values and another current time zone included."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from apps.api.serializers import trading as trading_serializers
from apps.trading.models import Order
from tests.api.conftest import token_client, token_for
from tests.api.trading_world import ROW_SERIALIZERS, TradingWorld

pytestmark = pytest.mark.django_db


def _generic(serializer_class, row) -> dict:
    return serializers.ModelSerializer.to_representation(serializer_class(), row)


def _all_rows(serializer_class):
    return list(serializer_class.Meta.model.objects.order_by("pk"))


def test_every_large_list_resource_renders_through_the_fast_path():
    served = {serializer.Meta.model.__name__ for serializer in ROW_SERIALIZERS}
    assert served >= {"Order", "Fill", "Position", "Trade", "Decision", "CashFlow"}


@pytest.mark.parametrize("serializer_class", ROW_SERIALIZERS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("zone", ["UTC", "America/Sao_Paulo"])
def test_fast_rows_equal_drf_generic_rows(serializer_class, zone):
    TradingWorld()
    rows = _all_rows(serializer_class)
    assert rows, f"the world holds no {serializer_class.Meta.model.__name__}"
    with timezone.override(zone):
        fast = serializer_class(rows, many=True).data
        generic = [_generic(serializer_class, row) for row in rows]
    assert [dict(row) for row in fast] == generic
    assert any(value is not None for row in generic for value in row.values())


def test_decimals_beyond_the_columns_scale_are_quantized_as_drf_does():
    world = TradingWorld()
    order = Order.objects.get(pk=world.entry.pk)
    order.quantity = Decimal("1.123456789012345")  # more places than the column holds
    order.price = 7  # not a Decimal at all
    order.stop_price = None
    fast = trading_serializers.OrderSerializer(order).data
    assert fast == _generic(trading_serializers.OrderSerializer, order)
    assert fast["stop_price"] is None


def test_the_api_list_serves_the_same_rows_as_the_generic_path():
    world = TradingWorld()
    client = token_client(token_for(world.desk.viewer, scope="read"))
    body = client.get("/api/v1/orders/", {"page_size": 50}).json()
    rows = {row.pk: row for row in Order.objects.filter(pk__in=[r["id"] for r in body["results"]])}
    assert body["results"]
    for result in body["results"]:
        assert result == _generic(trading_serializers.OrderSerializer, rows[result["id"]])


def test_the_active_time_zone_is_read_once_per_row_not_per_datetime(monkeypatch):
    from apps.api.serializers import rows as row_rendering

    TradingWorld()
    orders = list(Order.objects.order_by("pk"))
    reads = []
    current = timezone.get_current_timezone

    def counted():
        reads.append(1)
        return current()

    monkeypatch.setattr(row_rendering.timezone, "get_current_timezone", counted)
    with timezone.override("America/Sao_Paulo"):
        data = trading_serializers.OrderSerializer(orders, many=True).data
    assert data[0]["created_at"].endswith("-03:00")
    assert len(reads) == len(orders)  # two datetime columns, one read of the zone a row


def test_naive_and_out_of_range_datetimes_take_drfs_own_path():
    world = TradingWorld()
    order = Order.objects.get(pk=world.entry.pk)
    order.created_at = order.created_at.replace(tzinfo=None)  # naive: made aware by DRF
    with timezone.override("America/Sao_Paulo"):
        fast = trading_serializers.OrderSerializer(order).data
        assert fast == _generic(trading_serializers.OrderSerializer, order)
        assert fast["created_at"].endswith("-03:00")
    order.created_at = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)
    with timezone.override("America/Sao_Paulo"), pytest.raises(serializers.ValidationError):
        _ = trading_serializers.OrderSerializer(order).data  # DRF's "overflow" error
