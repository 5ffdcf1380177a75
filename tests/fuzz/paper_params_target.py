"""The paper exchange's request parser as one fuzz target, shared by the hypothesis
tests and the atheris run (atheris_paper_params.py)."""

from __future__ import annotations

import re
from decimal import Decimal

from apps.paper_exchange.errors import CLIENT_ID_REGEX, ApiError
from apps.paper_exchange.server.order_params import parse_legacy_oco, parse_oco, parse_order
from apps.paper_exchange.server.params import Params

PARSERS = (parse_order, parse_oco, parse_legacy_oco)
_CLIENT_ID = re.compile(CLIENT_ID_REGEX)
_NUMERIC = ("quantity", "quote_order_qty", "price", "stop_price")
_IDS = ("new_client_order_id", "list_client_order_id")


def check_parse(raw_query: str, raw_body: str, which: int) -> object | None:
    """Parse one request; only ApiError may escape. The parsed request must hold
    Decimal numbers and client ids exactly as the documented regex allows."""
    request = _parse(raw_query, raw_body, which)
    if isinstance(request, ApiError):
        assert request.code < 0, request.payload()
        assert request.msg
        assert 400 <= request.status < 500
        return None
    for leg in _legs(request):
        for name in _NUMERIC:
            value = getattr(leg, name, None)
            assert value is None or (type(value) is Decimal and value.is_finite()), (name, value)
        for name in _IDS:
            value = getattr(leg, name, None)
            assert value is None or _CLIENT_ID.fullmatch(value), (name, value)
    return request


def _parse(raw_query: str, raw_body: str, which: int):
    try:
        return PARSERS[which % len(PARSERS)](Params(raw_query, raw_body), "BTCUSDT")
    except ApiError as error:
        return error


def _legs(request):
    yield request
    for name in ("above", "below"):
        if getattr(request, name, None) is not None:
            yield getattr(request, name)
