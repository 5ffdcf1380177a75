"""Shared hypothesis settings and generators for the parsers of external input.

Runs are derandomized (the same examples on every machine, so a CI failure reproduces
locally) and bounded, so the whole fuzz package stays well under a minute.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FEW = settings(FUZZ, max_examples=30)

# Anything a JSON decoder could hand us, nested a little.
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# Numbers as Binance writes them on the wire: plain digits, up to 8 decimals.
wire_decimals = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("99999999"), places=8, allow_nan=False
).map(lambda d: f"{d:f}")


def no_floats(value) -> bool:
    """True when no float hides anywhere in `value` (dicts, lists, dataclass fields)."""
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(no_floats(k) and no_floats(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return all(no_floats(item) for item in value)
    if hasattr(value, "__dataclass_fields__"):
        return all(no_floats(getattr(value, name)) for name in value.__dataclass_fields__)
    return True


def attempt(function, *args, expected: type[BaseException] | tuple, **kwargs):
    """The result, or the `expected` exception instance (so tests assert on either
    outside an except block); anything else propagates and fails the test."""
    try:
        return function(*args, **kwargs)
    except expected as error:
        return error
