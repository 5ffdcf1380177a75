"""What users and their tools send: signal webhook bodies and strategy parameters.

Arbitrary input ends in the documented error naming a field (ValidationError for a
webhook body, ParameterErrors for parameters), never another exception; prices stay
Decimal; valid input round-trips.
"""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.errors import ValidationError
from apps.strategies.engine import ParameterErrors, registry
from apps.strategies.models import StrategyConfig
from apps.strategies.webhooks import ACTIONS, MAX_BODY_BYTES, parse_signal
from tests.fuzz.support import FUZZ, attempt, json_values, no_floats, wire_decimals

# An unsaved config: parse_signal reads only its symbols.
CONFIG = StrategyConfig(symbols=["BTCUSDT", "ETHUSDT"])
SIGNAL_FIELDS = {"action", "symbol", "stop", "target", "price", "comment"}
PRICE_VALUES = st.one_of(
    st.none(), wire_decimals, st.integers(min_value=-5, max_value=10**6), json_values
)
SIGNAL_OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from([*ACTIONS, "BUY", "hold", ""]) | json_values,
        "symbol": st.sampled_from(["BTCUSDT", " ethusdt ", "XRPUSDT"]) | json_values,
        "stop": PRICE_VALUES,
        "target": PRICE_VALUES,
        "price": PRICE_VALUES,
        "comment": st.text(max_size=20),
        "extra": json_values,
    },
)


def _json_text(value) -> st.SearchStrategy[bytes]:
    import json

    return json.dumps(value, default=str).encode()


BODIES = st.one_of(
    st.binary(max_size=200),
    json_values.map(_json_text),
    SIGNAL_OBJECTS.map(_json_text),
    st.just(b"{" + b" " * MAX_BODY_BYTES + b"}"),
    st.sampled_from([b'{"action": "buy", "symbol": "BTCUSDT", "price": 1e999}', b"\xff\xfe{}"]),
)


@FUZZ
@given(BODIES)
def test_any_body_is_a_signal_or_names_the_broken_field(body):
    signal = attempt(parse_signal, body, config=CONFIG, expected=ValidationError)
    if isinstance(signal, ValidationError):
        # The broken field, the body itself, or the unknown key that was sent.
        assert signal.field in SIGNAL_FIELDS | {"body"} or signal.rule.startswith(
            "is not a signal field"
        )
        return
    assert signal.action in ACTIONS
    assert signal.symbol in CONFIG.symbols
    for name in ("stop", "target", "price"):
        value = getattr(signal, name)
        assert value is None or (type(value) is Decimal and value.is_finite() and value > 0)
    assert no_floats(signal.as_task_args())


@st.composite
def valid_signals(draw):
    action = draw(st.sampled_from(ACTIONS))
    stop = Decimal(draw(wire_decimals))
    target = stop + Decimal(draw(wire_decimals))
    payload = {"action": action, "symbol": draw(st.sampled_from(CONFIG.symbols))}
    if draw(st.booleans()):
        payload |= {"stop": f"{stop:f}", "target": f"{target:f}"}
    return payload


@FUZZ
@given(valid_signals())
def test_valid_signals_round_trip_through_task_arguments(payload):
    import json

    signal = parse_signal(json.dumps(payload).encode(), config=CONFIG)
    args = signal.as_task_args()
    assert args["action"] == payload["action"]
    assert args["symbol"] == payload["symbol"]
    for name in ("stop", "target"):
        if name in payload:
            assert Decimal(args[name]) == Decimal(payload[name])  # exact, as sent


# --- strategy parameters ---------------------------------------------------------------


@pytest.fixture(params=registry.keys())
def schema(request):
    return registry.get(request.param).schema


PARAM_VALUES = st.dictionaries(
    st.text(max_size=12),
    st.one_of(json_values, st.floats(allow_nan=True, allow_infinity=True)),
    max_size=5,
)


@FUZZ
@given(st.data())
def test_any_parameters_validate_or_name_every_broken_one(schema, data):
    names = [param.name for param in schema.params]
    values = data.draw(PARAM_VALUES)
    if names:
        # Mostly the strategy's own names, with anything as their values.
        values |= data.draw(
            st.dictionaries(
                st.sampled_from(names),
                st.one_of(
                    json_values, st.floats(), st.integers(min_value=-(10**6), max_value=10**6)
                ),
                max_size=len(names),
            )
        )
    cleaned = attempt(schema.validate, values, expected=ParameterErrors)
    if isinstance(cleaned, ParameterErrors):
        assert cleaned.errors
        assert all(e.rule for e in cleaned.errors)
        assert {e.field for e in cleaned.errors} <= set(names) | set(values)
        return
    assert set(cleaned) == set(names)
    assert schema.validate(cleaned) == cleaned  # cleaning is idempotent


@FUZZ
@given(st.data())
def test_values_inside_the_declared_bounds_are_accepted_as_given(schema, data):
    values = {}
    for param in schema.params:
        if param.kind == "bool":
            values[param.name] = data.draw(st.booleans())
        elif param.kind == "choice":
            values[param.name] = data.draw(st.sampled_from(param.choices))
        elif param.kind == "int":
            values[param.name] = data.draw(
                st.integers(min_value=int(param.minimum), max_value=int(param.maximum))
            )
        else:
            values[param.name] = data.draw(
                st.floats(min_value=param.minimum, max_value=param.maximum)
            )
    cleaned = attempt(schema.validate, values, expected=ParameterErrors)
    if isinstance(cleaned, ParameterErrors):
        # Only a cross-field rule (e.g. fast below slow) may refuse in-bounds values.
        assert all(e.field in values for e in cleaned.errors)
        return
    assert cleaned == values
