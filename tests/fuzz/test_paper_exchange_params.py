"""The paper exchange's request parser (query string and form body, Binance's rules).

Hypothesis drives it with generated and well-formed requests; atheris runs a short,
seeded, coverage-guided campaign on the same target in a subprocess.
"""

import subprocess
import sys
from decimal import Decimal
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from apps.paper_exchange.errors import ApiError
from apps.paper_exchange.server.order_params import parse_order
from apps.paper_exchange.server.params import Params
from tests.fuzz.paper_params_target import check_parse
from tests.fuzz.support import FUZZ, attempt, wire_decimals
from tests.support.processes import PROJECT_ROOT

NAMES = [
    "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "stopPrice",
    "trailingDelta", "newClientOrderId", "newOrderRespType", "selfTradePreventionMode",
    "strategyId", "strategyType", "icebergQty", "aboveType", "belowType", "abovePrice",
    "belowStopPrice", "belowTimeInForce", "aboveClientOrderId", "listClientOrderId",
    "stopLimitPrice", "stopLimitTimeInForce",
]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=12),
    wire_decimals,
    st.sampled_from(["BUY", "SELL", "LIMIT", "MARKET", "STOP_LOSS_LIMIT", "LIMIT_MAKER", "GTC"]),
    st.sampled_from(["1e5", "NaN", "-1", "0.123456789", "9" * 21, "1\n", "abc\n", "%00"]),
)
QUERIES = st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=6), VALUES), max_size=10)


@FUZZ
@given(QUERIES, QUERIES, st.integers(min_value=0, max_value=2), st.text(max_size=30))
def test_any_request_parses_or_is_refused_with_a_binance_error(query, body, which, raw):
    check_parse(urlencode(query), urlencode(body), which)
    check_parse(raw, raw, which)  # undecoded bytes as they may come off the wire


@FUZZ
@given(
    st.sampled_from(["BUY", "SELL"]),
    wire_decimals,
    wire_decimals,
    st.from_regex(r"[A-Za-z0-9_\-]{1,36}", fullmatch=True),
)
def test_a_well_formed_limit_order_round_trips(side, quantity, price, client_id):
    query = {
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": quantity,
        "price": price,
        "newClientOrderId": client_id,
    }
    request = parse_order(Params(urlencode(query), ""), "BTCUSDT")
    assert (request.side, request.type, request.time_in_force) == (side, "LIMIT", "GTC")
    assert request.quantity == Decimal(quantity)
    assert request.price == Decimal(price)
    assert request.new_client_order_id == client_id


def test_atheris_campaign_on_the_parser_finds_nothing():
    """2,000 coverage-guided runs from a fixed seed (reproducible)."""
    result = subprocess.run(
        [sys.executable, "tests/fuzz/atheris_paper_params.py", "-runs=2000", "-seed=73"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 2000 runs" in result.stderr


@FUZZ
@given(
    st.sampled_from(["quantity", "price", "newClientOrderId", "strategyId"]),
    st.sampled_from(["\n", " ", "\t", "\r\n", "!"]),
)
def test_a_value_with_trailing_characters_is_illegal(name, suffix):
    # Binance's regexes describe the whole value: "1\n" is not a number, "abc\n" not an id.
    query = {
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1",
        "price": "2",
        "newClientOrderId": "abc",
        "strategyId": "7",
    }
    query[name] += suffix
    refused = attempt(parse_order, Params(urlencode(query), ""), "BTCUSDT", expected=ApiError)
    assert isinstance(refused, ApiError)
    assert refused.code == -1100  # "Illegal characters found in parameter"
