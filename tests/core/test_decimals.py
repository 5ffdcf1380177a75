from decimal import Decimal

import pytest

from apps.core.decimals import quantize_step, round_up_step, to_decimal, to_wire
from apps.core.errors import ValidationError


@pytest.mark.parametrize(("raw", "expected"), [("0.1", "0.1"), (3, "3"), (Decimal("1e-8"), "1E-8")])
def test_to_decimal_accepts_exact_representations(raw, expected):
    assert to_decimal(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", [0.1, True, "abc", "NaN", "Infinity", None])
def test_to_decimal_rejects_floats_and_garbage_naming_the_field(raw):
    with pytest.raises(ValidationError) as caught:
        to_decimal(raw, field="quantity")
    assert caught.value.field == "quantity"


def test_quantize_step_rounds_down_to_lot_size():
    assert quantize_step(Decimal("0.123456789"), Decimal("0.00001")) == Decimal("0.12345")
    assert quantize_step(Decimal("17.9"), Decimal("1")) == Decimal("17")


def test_round_up_step():
    assert round_up_step(Decimal("0.123451"), Decimal("0.00001")) == Decimal("0.12346")


@pytest.mark.parametrize(
    ("value", "wire"),
    [("0.00010000", "0.0001"), ("100", "100"), ("1E+2", "100"), ("0", "0"), ("1E-8", "0.00000001")],
)
def test_to_wire_is_plain_and_trimmed(value, wire):
    assert to_wire(Decimal(value)) == wire
