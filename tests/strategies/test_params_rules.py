"""Cross-field rules of a parameter schema: checked by `validate`, apart by
`clean_each` + `broken_rules` (a sweep skips the combinations that break them)."""

import pytest

from apps.strategies.engine import registry
from apps.strategies.engine.errors import ParameterErrors


def test_validate_still_refuses_a_broken_rule_and_clean_each_does_not():
    schema = registry.get("trend_following").schema
    with pytest.raises(ParameterErrors) as caught:
        schema.validate({"fast": 30, "slow": 20})
    assert caught.value.as_dict() == {"fast": "must be below slow"}
    cleaned = schema.clean_each({"fast": 30, "slow": 20})
    assert (cleaned["fast"], cleaned["slow"]) == (30, 20)
    assert [str(e) for e in schema.broken_rules(cleaned)] == ["fast: must be below slow"]
    assert schema.broken_rules(schema.clean_each({"fast": 5, "slow": 20})) == []


def test_clean_each_refuses_a_value_on_its_own():
    schema = registry.get("trend_following").schema
    with pytest.raises(ParameterErrors) as caught:
        schema.clean_each({"fast": 0, "nope": 1})
    assert set(caught.value.as_dict()) == {"fast", "nope"}
