"""What Binance sends back: HTTP answers, exchangeInfo filters and depth events.

The gateway is driven against a local HTTP receiver that answers with arbitrary
statuses, headers and bodies (the network boundary; nothing of ours is replaced):
every call returns the decoded body or raises one of the exchange error hierarchy,
and a write that got a 5xx is never reported as "certainly not executed" unless
Binance documents it so.
"""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.errors import ExchangeError, UncertainOutcomeError
from apps.exchange.errors import TemporaryExchangeError, map_api_error
from apps.exchange.filters import (
    OrderIntent,
    OrderRefused,
    SymbolRules,
    quantize_order,
)
from apps.exchange.streams.order_book import DepthEvent, LocalOrderBook
from tests.fuzz.support import FEW, FUZZ, attempt, json_values, no_floats, wire_decimals

# --- the HTTP answers --------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    answer: tuple[int, dict, bytes] = (200, {}, b"{}")

    def _reply(self):
        if self.path.startswith("/api/v3/time"):
            status, headers, body = 200, {}, json.dumps({"serverTime": 1_700_000_000_000}).encode()
        else:
            status, headers, body = type(self).answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _reply

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12
) | st.integers(min_value=-5, max_value=10**12).map(str)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-MBX-USED-WEIGHT-1M": HEADER_TEXT,
        "X-MBX-ORDER-COUNT-10S": HEADER_TEXT,
        "Retry-After": HEADER_TEXT,
        "Content-Type": st.sampled_from(["application/json", "text/html"]),
    },
)
ERROR_BODIES = st.fixed_dictionaries(
    {"code": st.integers(min_value=-3000, max_value=0) | st.sampled_from([-1001, -1007, -2010])},
    optional={"msg": st.text(max_size=40)},
)
BODIES = st.one_of(
    st.binary(max_size=60),
    json_values.map(lambda v: json.dumps(v).encode()),
    ERROR_BODIES.map(lambda v: json.dumps(v).encode()),
)
# Codes whose meaning Binance documents whatever the HTTP status: the body decides.
EXPLICIT = {-1003, -1015, -1021, -2013, -1002, -1022, -2014, -2015, -1099, -2010, -2011}
EXPLICIT |= {-1013, -1111, -1115, -1116, -1117, -1121}
DID_NOT_EXECUTE = {-1000, -1004, -1008, -1016, -1034}


def _assert_write_5xx_is_never_a_false_failure(error: ExchangeError, status: int) -> None:
    """A 5xx on a write means "maybe executed" unless the body or Binance's docs say
    otherwise: it must never come back as a plain failure that invites a blind resend."""
    if isinstance(error, UncertainOutcomeError) or error.exchange_code in EXPLICIT:
        return
    assert isinstance(error, TemporaryExchangeError)
    assert status == 503 or error.exchange_code in DID_NOT_EXECUTE


STATUSES = st.sampled_from([200, 201, 400, 401, 403, 404, 409, 418, 429, 500, 502, 503, 504])


@pytest.mark.django_db
@settings(FEW, max_examples=60)
@given(STATUSES, HEADERS, BODIES, st.sampled_from(["GET", "POST"]))
def test_any_answer_is_a_result_or_an_exchange_error(
    receiver, redis_client, status, headers, body, method
):
    from apps.exchange.gateway import ExchangeGateway

    _Receiver.answer = (status, headers, body)
    path = "/api/v3/ticker/price" if method == "GET" else "/api/v3/order/test"
    try:
        with override_settings(PAPER_EXCHANGE_URL=receiver):
            # A fresh egress per answer: a fuzzed 429 pauses only its own budget.
            gateway = ExchangeGateway("paper", egress=f"fuzz-{uuid.uuid4().hex[:8]}")
            gateway.request(method, path, {"symbol": "BTCUSDT"}, retry=False)
    except ExchangeError as error:
        if method == "POST" and status >= 500:
            _assert_write_5xx_is_never_a_false_failure(error, status)
        return
    assert 200 <= status < 300


@FUZZ
@given(
    st.integers(min_value=100, max_value=599),
    st.none()
    | st.integers(min_value=-(2**31), max_value=2**31)
    | st.sampled_from(sorted(EXPLICIT)),
    st.text(max_size=80),
    st.booleans(),
)
def test_every_error_answer_maps_into_the_hierarchy(status, code, message, is_write):
    error = map_api_error(status, code, message, is_write=is_write)
    assert isinstance(error, ExchangeError)
    assert error.message
    if is_write and status >= 500 and status not in (418, 429):
        _assert_write_5xx_is_never_a_false_failure(error, status)


# --- exchangeInfo filters and quantization ------------------------------------------------

STEPS = st.sampled_from(["0", "1", "0.1", "0.01", "0.001", "0.00001", "0.00000001", "5", "0.05"])


@st.composite
def symbol_entries(draw):
    filters = [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": draw(st.sampled_from(["0", "0.01", "1"])),
            "maxPrice": draw(st.sampled_from(["0", "1000000"])),
            "tickSize": draw(STEPS),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": draw(st.sampled_from(["0", "0.00001", "1"])),
            "maxQty": draw(st.sampled_from(["0", "9000", "100000"])),
            "stepSize": draw(STEPS),
        },
    ]
    if draw(st.booleans()):
        filters.append(
            {
                "filterType": "NOTIONAL",
                "minNotional": draw(st.sampled_from(["0", "5", "10"])),
                "maxNotional": draw(st.sampled_from(["0", "9000000"])),
                "applyMinToMarket": draw(st.booleans()),
                "applyMaxToMarket": draw(st.booleans()),
            }
        )
    if draw(st.booleans()):
        filters.append(
            {"filterType": "PERCENT_PRICE", "multiplierUp": "5", "multiplierDown": "0.2"}
        )
    return {
        "symbol": "BTCUSDT",
        "status": draw(st.sampled_from(["TRADING", "TRADING", "BREAK"])),
        "baseAsset": "BTC",
        "quoteAsset": "USDT",
        "baseAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET", "STOP_LOSS_LIMIT", "LIMIT_MAKER"],
        "filters": filters,
    }


PRICES = st.decimals(min_value=Decimal("-1"), max_value=Decimal("10000000"), places=10)
INTENTS = st.builds(
    OrderIntent,
    side=st.sampled_from(["BUY", "SELL", "buy", "HOLD"]),
    order_type=st.sampled_from(["LIMIT", "MARKET", "STOP_LOSS_LIMIT", "LIMIT_MAKER", "OCO"]),
    quantity=st.decimals(min_value=Decimal("-1"), max_value=Decimal("1000000"), places=10),
    price=st.none() | PRICES,
    stop_price=st.none() | PRICES,
)


@FUZZ
@given(symbol_entries(), INTENTS, st.none() | PRICES.filter(lambda p: p > 0))
def test_any_intent_is_quantized_to_the_filters_or_refused(entry, intent, average):
    rules = SymbolRules.from_exchange_info(entry)
    assert no_floats(rules)
    order = attempt(quantize_order, rules, intent, average_price=average, expected=OrderRefused)
    if isinstance(order, OrderRefused):
        assert order.field == "order"
        assert order.reason
        return
    assert no_floats(order)
    # Never more than intended, always on the step, inside the limits.
    assert 0 < order.quantity <= intent.quantity
    if rules.lot.step_size > 0:
        assert order.quantity % rules.lot.step_size == 0
    if order.price is not None:
        tick = rules.price.tick_size
        assert tick == 0 or order.price % tick == 0
        if order.side == "BUY":
            assert order.price <= intent.price  # a buyer never pays more
        else:
            assert order.price >= intent.price  # a seller never receives less
    for value in order.wire_params().values():
        assert "E" not in value
        assert Decimal(value) > 0


@FUZZ
@given(symbol_entries())
def test_filters_round_trip_from_exchange_info(entry):
    rules = SymbolRules.from_exchange_info(entry)
    by_type = {item["filterType"]: item for item in entry["filters"]}
    assert rules.price.tick_size == Decimal(by_type["PRICE_FILTER"]["tickSize"])
    assert rules.lot.step_size == Decimal(by_type["LOT_SIZE"]["stepSize"])
    assert rules.lot.min_qty == Decimal(by_type["LOT_SIZE"]["minQty"])
    if "NOTIONAL" in by_type:
        assert rules.notional.min_notional == Decimal(by_type["NOTIONAL"]["minNotional"])


# --- depth events ---------------------------------------------------------------------------

LEVELS = st.lists(st.tuples(wire_decimals, st.sampled_from(["0", "0.5", "1.25", "3"])), max_size=5)


@FUZZ
@given(
    st.integers(min_value=1, max_value=10**6),
    st.lists(st.tuples(LEVELS, LEVELS), min_size=1, max_size=8),
)
def test_a_synced_book_equals_replaying_every_level(snapshot_id, updates):
    """After a snapshot and contiguous diff events the book holds exactly the last
    absolute quantity of each level, zero removing it, all in Decimal."""
    book = LocalOrderBook("BTCUSDT")
    assert book.on_snapshot({"lastUpdateId": snapshot_id, "bids": [], "asks": []})
    expected_bids: dict[Decimal, Decimal] = {}
    expected_asks: dict[Decimal, Decimal] = {}
    next_id = snapshot_id + 1
    for bids, asks in updates:
        message = {
            "e": "depthUpdate",
            "s": "BTCUSDT",
            "U": next_id,
            "u": next_id,
            "b": bids,
            "a": asks,
        }
        assert book.on_event(DepthEvent.from_stream(message))
        for side, levels in ((expected_bids, bids), (expected_asks, asks)):
            for price, quantity in levels:
                if Decimal(quantity) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = Decimal(quantity)
        next_id += 1
    assert book.bids == expected_bids
    assert book.asks == expected_asks
    assert no_floats(book.bids)
    assert no_floats(book.asks)
    # A gap is detected, never applied.
    gap = {"U": next_id + 5, "u": next_id + 6, "b": [["1", "1"]], "a": []}
    assert book.on_event(DepthEvent.from_stream(gap)) is False
    assert not book.synced
