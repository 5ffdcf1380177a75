"""The API's JSON renderer (apps/api/renderers.py) writes what DRF's renderer writes."""

import datetime
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from apps.api.renderers import FastJSONRenderer
from tests.api.conftest import token_client, token_for

ZONES = [datetime.UTC, datetime.timezone(datetime.timedelta(hours=-3)), None]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(["\u2028"]),
    st.datetimes(timezones=st.sampled_from(ZONES)),
    st.dates(),
    st.times(),
    st.uuids(),
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)


def both(data, media_type=None):
    return (
        FastJSONRenderer().render(data, media_type, {}),
        JSONRenderer().render(data, media_type, {}),
    )


@settings(max_examples=300, deadline=None)
@given(documents)
def test_any_document_renders_byte_for_byte_as_drf(document):
    fast, drf = both(document)
    assert fast == drf


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=8),
    st.lists(st.decimals(allow_nan=False, allow_infinity=False, places=8), max_size=8),
)
def test_floats_and_decimals_render_to_the_same_numbers(floats, decimals):
    # The same numbers, possibly written another way (1e-08 as 1e-8).
    fast, drf = both({"floats": floats, "decimals": decimals})
    assert json.loads(fast) == json.loads(drf)


@dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    "document",
    [
        {"big": 2**70},  # beyond orjson's 64 bits: DRF's renderer writes it
        {1: "a", 2: "b"},  # keys that are not strings
        {"lazy": gettext_lazy("name"), "id": uuid.UUID(int=7)},
        {"when": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)},
        {"line": "a\u2028b\u2029c", "amount": Decimal("1.50")},
        {"pair": (1, 2), "nested": [{"a": None}]},
    ],
)
def test_unusual_values_render_as_drf_renders_them(document):
    fast, drf = both(document)
    assert fast == drf


def test_what_drf_cannot_render_fails_the_same_way():
    with pytest.raises(TypeError):
        FastJSONRenderer().render({"point": Point(1)})
    with pytest.raises(TypeError):
        JSONRenderer().render({"point": Point(1)})


def test_an_indented_document_is_drfs():
    document = {"a": [1, {"b": "c"}]}
    fast, drf = both(document, "application/json; indent=2")
    assert fast == drf
    assert b"\n  " in fast


def test_nothing_renders_as_nothing():
    assert FastJSONRenderer().render(None) == b""


@pytest.mark.django_db
def test_api_responses_are_rendered_by_it(desk):
    response = token_client(token_for(desk.viewer, scope="read")).get("/api/v1/orders/")
    assert response.status_code == 200
    assert type(response.accepted_renderer) is FastJSONRenderer
    assert response.content == JSONRenderer().render(response.data)
