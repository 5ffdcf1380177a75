"""The batch add page's parameter inputs: the schema the page reads, the exact reading
of grids (lists and ranges) and variants, and the admin form that creates nothing when
a value breaks a rule. The browser side is tests/e2e/test_batch_form.py."""

import html
import json
import re
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from apps.audit.models import AuditEvent
from apps.backtest import services
from apps.backtest.batch_params import (
    ParameterInputErrors,
    exact_params,
    exact_value,
    expand_grid,
)
from apps.backtest.models import Backtest, BacktestBatch
from apps.backtest.param_schema import parameter_schema
from apps.risk.models import RiskProfile
from apps.strategies.engine import ParameterError, registry
from apps.strategies.engine.params import (
    ParamSchema,
    bool_param,
    choice_param,
    float_param,
    int_param,
)
from tests.accounts.factories import make_account
from tests.trading.support import make_config

from .test_backtest_product import PARAMS, world  # noqa: F401 (fixture)
from .test_batch_admin import (  # noqa: F401 (fixtures)
    ADD_URL,
    admin_as,
    created,
    form_data,
    form_errors,
    queued_runs,
    submit,
)

TREND = registry.get("trend_following").schema  # fast 2-200, slow 3-400, atr_stop 0.1-20.0
LIMIT = services.MAX_RUNS
D = Decimal


def grid_of(grid: dict, schema: ParamSchema = TREND) -> dict:
    return expand_grid(schema, grid, max_configurations=LIMIT)


def problems_of(grid: dict, schema: ParamSchema = TREND) -> list[tuple[str, str]]:
    with pytest.raises(ParameterInputErrors) as caught:
        grid_of(grid, schema)
    return caught.value.problems


# --- the schema the page reads ----------------------------------------------------------


def test_the_schema_lists_every_strategys_parameters_with_type_bounds_and_default():
    schema = parameter_schema()
    assert schema["max_runs"] == services.MAX_RUNS == 500
    assert sorted(schema["strategies"]) == registry.keys()
    trend = schema["strategies"]["trend_following"]
    assert (trend["name"], trend["version"]) == ("EMA crossover with ADX filter", "1.0")
    names = [p["name"] for p in trend["parameters"]]
    assert names == [p.name for p in TREND.params]  # declaration order: the page's rows
    fast, atr_stop = trend["parameters"][0], trend["parameters"][names.index("atr_stop")]
    assert fast == {
        "name": "fast", "kind": "int", "label": "Fast EMA",
        "help_text": "Period of the fast exponential moving average.", "initial": 12,
        "min_value": 2, "max_value": 200, "choices": [],
    }  # fmt: skip
    assert (atr_stop["kind"], atr_stop["min_value"], atr_stop["initial"]) == ("float", 0.1, 2.0)
    # What json_script sends: plain JSON, every bound a number or null.
    assert json.loads(json.dumps(schema)) == schema


def test_the_schema_states_each_strategys_cross_field_rules_in_the_users_language():
    rules = {key: s["rules"] for key, s in parameter_schema()["strategies"].items()}
    assert rules["trend_following"] == ["fast must be below slow"]
    assert rules["breakout"] == ["exit_period must be below entry_period"]
    assert rules["mean_reversion"] == ["oversold must be below overbought"]
    with translation.override("pt-br"):
        translated = parameter_schema()["strategies"]["trend_following"]["rules"]
    assert translated == ["fast deve ficar abaixo de slow"]


# --- one value, exactly ------------------------------------------------------------------


def test_a_value_becomes_the_parameters_type_without_passing_through_a_float():
    fast, atr_stop = TREND.params[0], TREND.params[5]
    assert exact_value(fast, D("5.0")) == 5
    assert type(exact_value(fast, D("5.0"))) is int
    assert exact_value(atr_stop, D("0.1")) == 0.1  # not below a minimum of 0.1
    assert exact_value(atr_stop, 3) == 3.0
    assert type(exact_value(atr_stop, 3)) is float
    assert exact_value(atr_stop, 0.1) == 0.1  # a float read by another decoder: its repr
    for raw, rule in [
        (D("5.5"), "must be an integer"), (True, "must be an integer"), ("5", "must be an integer"),
        (1, "must be at least 2"), (D("200.5"), "must be an integer"), (201, "must be at most 200"),
        (D("NaN"), "must be a finite number"),
    ]:  # fmt: skip
        with pytest.raises(ParameterError) as caught:
            exact_value(fast, raw)
        assert caught.value.rule == rule, raw
    with pytest.raises(ParameterError, match=r"must be at least 0\.1"):
        exact_value(atr_stop, D("0.0999999999999999999999"))


def test_a_parameter_without_bounds_still_refuses_a_huge_number_at_once():
    free = ParamSchema((int_param("n", 1, minimum=None, maximum=None, label="n", help_text=""),))
    with pytest.raises(ParameterError, match=r"must be at most 1E\+15 in size"):
        exact_value(free.params[0], D("1e999999999"))  # int() of it would never finish


# --- grids: lists and ranges -------------------------------------------------------------


def test_lists_and_ranges_expand_to_the_services_lists():
    grid = grid_of({"fast": {"start": 5, "stop": 20, "step": 5}, "slow": [30, D("40.0")]})
    assert grid == {"fast": [5, 10, 15, 20], "slow": [30, 40]}
    assert {type(v) for v in grid["fast"] + grid["slow"]} == {int}
    # The stop is included when the steps land on it, and never passed.
    assert grid_of({"fast": {"start": 5, "stop": 21, "step": 5}}) == {"fast": [5, 10, 15, 20]}
    assert grid_of({"fast": {"start": 7, "stop": 7, "step": 1}}) == {"fast": [7]}


def test_a_decimal_range_steps_in_decimal():
    steps = grid_of({"atr_stop": {"start": D("0.1"), "stop": D("0.5"), "step": D("0.1")}})
    assert steps == {"atr_stop": [0.1, 0.2, 0.3, 0.4, 0.5]}  # 0.3, not 0.30000000000000004
    thirds = grid_of({"atr_stop": {"start": D("0.1"), "stop": D("1"), "step": D("0.3")}})
    assert thirds == {"atr_stop": [0.1, 0.4, 0.7, 1.0]}


@given(
    start=st.decimals(min_value=D("0.1"), max_value=D("10"), places=3),
    step=st.decimals(min_value=D("0.001"), max_value=D("0.25"), places=3),  # stop <= 20
    count=st.integers(min_value=1, max_value=40),
)
def test_a_range_holds_exactly_the_decimal_steps_up_to_its_stop(start, step, count):
    stop = start + step * (count - 1)
    values = grid_of({"atr_stop": {"start": start, "stop": stop, "step": step}})["atr_stop"]
    assert values == [float(start + step * i) for i in range(count)]
    assert values[-1] == float(stop)


def span(start, stop, step) -> dict:
    """A range entry; None leaves the key out."""
    parts = {"start": start, "stop": stop, "step": step}
    return {k: v for k, v in parts.items() if v is not None}


BAD = [
    ("step zero", {"fast": span(5, 20, 0)}, [("grid.fast.step", "must be above 0")]),
    ("step negative", {"fast": span(5, 20, -5)}, [("grid.fast.step", "must be above 0")]),
    ("stop before start", {"fast": span(20, 5, 5)}, [("grid.fast.stop", "must be at least start")]),
    ("out of bounds", {"fast": span(1, 201, 5)}, [
        ("grid.fast.start", "must be at least 2"), ("grid.fast.stop", "must be at most 200"),
    ]),
    ("fractional step", {"fast": span(5, 20, D("2.5"))}, [
        ("grid.fast.step", "must be an integer"),
    ]),
    ("missing step", {"fast": span(5, 20, None)}, [("grid.fast.step", "is required")]),
    ("wrong types", {"fast": {"start": "5", "stop": 20, "step": None}}, [
        ("grid.fast.start", "must be an integer"), ("grid.fast.step", "is required"),
    ]),
    ("unknown range key", {"fast": span(5, 20, 5) | {"by": 2}}, [
        ("grid.fast", "a range takes start, stop and step, not by"),
    ]),
    ("empty list", {"fast": []}, [("grid.fast", "must list at least one value")]),
    ("not a list", {"fast": 5}, [
        ("grid.fast", "must be a list of values or a range {start, stop, step}"),
    ]),
    ("repeated and out of bounds", {"fast": [5, D("5.0"), 1]}, [
        ("grid.fast[1]", "repeats 5"), ("grid.fast[2]", "must be at least 2"),
    ]),
    ("unknown parameter and wrong type", {"nope": [1], "slow": [D("0.5")]}, [
        ("grid.nope", "is not a parameter of this strategy"),
        ("grid.slow[0]", "must be an integer"),
    ]),
    ("too many", {"fast": span(2, 200, 1), "slow": [30, 40, 50]}, [
        ("grid", "must expand to at most 500 combinations (this one: 597)"),
    ]),
    ("too fine a step", {"atr_stop": span(D("0.1"), D("20"), D("1e-30"))}, [
        ("grid.atr_stop", "the range holds more than 500 values"),
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("grid", "problems"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_every_problem_names_its_parameter(grid, problems):
    assert problems_of(grid) == problems


def test_huge_and_tiny_steps_cost_nothing():
    huge = {"atr_stop": {"start": D("0.1"), "stop": D("20"), "step": D("1E+999999999")}}
    assert grid_of(huge) == {"atr_stop": [0.1]}
    tiny = {"fast": {"start": 2, "stop": 200, "step": D("1E-999999999")}}
    assert problems_of(tiny) == [("grid.fast.step", "must be an integer")]


def test_booleans_and_choices_take_lists_not_ranges():
    schema = ParamSchema((
        bool_param("confirm", True, label="Confirm", help_text=""),
        choice_param("side", "long", choices=("long", "short"), label="Side", help_text=""),
        float_param("f", 1.0, minimum=0.0, maximum=2.0, label="f", help_text=""),
    ))  # fmt: skip
    grid = grid_of({"confirm": [True, False], "side": ["short"]}, schema)
    assert grid == {"confirm": [True, False], "side": ["short"]}
    assert problems_of({"confirm": {"start": 0, "stop": 1, "step": 1}, "side": ["up"]}, schema) == [
        ("grid.confirm", "takes a list of values, not a range"),
        ("grid.side[0]", "must be one of long, short"),
    ]
    fine = {"f": {"start": D("1"), "stop": D("1.0000000000000000000001"), "step": D("1e-22")}}
    assert problems_of(fine, schema) == [("grid.f.step", "is too fine for this parameter")]


def test_variant_parameters_are_read_exactly_and_named():
    assert exact_params(TREND, {"atr_stop": D("0.1"), "slow": 60}, path="variant.params") == {
        "atr_stop": 0.1,
        "slow": 60,
    }
    with pytest.raises(ParameterInputErrors) as caught:
        exact_params(TREND, {"fast": D("2.5"), "nope": 1}, path="variant.params")
    assert caught.value.messages() == [
        "variant.params.fast: must be an integer",
        "variant.params.nope: is not a parameter of this strategy",
    ]


# --- the admin add page ------------------------------------------------------------------


def _json_script(page: str, element_id: str):
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S
    )
    assert found, element_id
    return json.loads(found.group(1))


@pytest.mark.django_db
def test_the_add_page_carries_the_schema_and_loads_its_script_from_static(world, admin_as):  # noqa: F811
    page = admin_as(world.desk.trader).get(ADD_URL).content.decode()
    assert _json_script(page, "batch-param-schema") == parameter_schema()
    strings = _json_script(page, "batch-form-strings")
    assert strings["total"] == "Configurations: {count} (at most {max})"
    assert '<script src="/static/backtest/batch_form.js" defer></script>' in page
    assert 'href="/static/backtest/batch_form.css"' in page
    # No inline code (the site's CSP): every script is a file or JSON data.
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    # Without JavaScript the JSON textareas are the form.
    assert re.search(r'<textarea name="grid"[^>]*id="id_grid"', page)
    assert re.search(r'<textarea name="variant"[^>]*id="id_variant"', page)


@pytest.mark.django_db
def test_a_range_sweep_is_expanded_and_stored_as_the_services_grid(
    world,  # noqa: F811
    admin_as,  # noqa: F811
    submit,  # noqa: F811
    redis_client,
):
    client = admin_as(world.desk.trader)
    grid = (
        '{"fast": {"start": 5, "stop": 20, "step": 5}, '
        '"atr_stop": {"start": 0.1, "stop": 0.3, "step": 0.1}}'
    )
    batch = created(submit(client, form_data(world.desk, grid=grid)))
    assert batch.spec["grid"] == {"fast": [5, 10, 15, 20], "atr_stop": [0.1, 0.2, 0.3]}
    runs = list(batch.runs.all())
    combos = sorted((r.params["fast"], r.params["atr_stop"]) for r in runs)
    assert combos == [(f, s) for f in (5, 10, 15, 20) for s in (0.1, 0.2, 0.3)]
    assert all(r.params["slow"] == PARAMS["slow"] for r in runs)  # the base run's value
    assert queued_runs(redis_client) == sorted(r.pk for r in runs)


@pytest.mark.django_db
def test_a_walk_forward_takes_a_range_too(world, admin_as, submit, redis_client):  # noqa: F811
    client = admin_as(world.desk.trader)
    grid = '{"fast": {"start": 5, "stop": 15, "step": 5}}'
    data = form_data(world.desk, kind="walk_forward", grid=grid, folds="2")
    batch = created(submit(client, data))
    assert batch.spec["grid"] == {"fast": [5, 10, 15]}
    assert batch.runs.count() == 3 * 2


BAD_GRIDS = [
    ("step zero", '{"fast": {"start": 5, "stop": 20, "step": 0}}',
     ["grid.fast.step: must be above 0"]),
    ("stop before start", '{"fast": {"start": 20, "stop": 5, "step": 5}}',
     ["grid.fast.stop: must be at least start"]),
    ("out of bounds", '{"fast": [1, 5], "atr_stop": {"start": 0.05, "stop": 1, "step": 0.5}}',
     ["grid.fast[0]: must be at least 2", "grid.atr_stop.start: must be at least 0.1"]),
    ("wrong type", '{"fast": [5, "ten"]}', ["grid.fast[1]: must be an integer"]),
    ("too many",
     '{"fast": {"start": 2, "stop": 29, "step": 1}, "slow": {"start": 30, "stop": 49, "step": 1}}',
     ["grid: must expand to at most 500 combinations (this one: 560)"]),
    ("not JSON", '{"fast": [NaN]}', ["Enter a valid JSON."]),
    ("a 5,000-digit integer", '{"fast": [' + "9" * 5000 + "]}", ["Enter a valid JSON."]),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("grid", "messages"), [c[1:] for c in BAD_GRIDS], ids=[c[0] for c in BAD_GRIDS]
)
def test_a_bad_grid_names_the_parameter_and_creates_nothing(
    world,  # noqa: F811
    admin_as,  # noqa: F811
    submit,  # noqa: F811
    redis_client,
    grid,
    messages,
):
    response = submit(admin_as(world.desk.trader), form_data(world.desk, grid=grid))
    errors = form_errors(response)
    assert list(errors) == ["grid"]
    assert errors["grid"] == messages
    assert not BacktestBatch.objects.exists()
    assert not Backtest.objects.exists()
    assert not AuditEvent.objects.filter(action="backtest_batch.created").exists()
    assert queued_runs(redis_client) == []
    # The text comes back as typed (the page's script rebuilds its rows from it).
    textarea = re.search(
        r'<textarea name="grid"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    assert html.unescape(textarea.group(1)).strip() == grid


@pytest.mark.django_db
def test_a_variant_overrides_some_of_as_parameters(world, admin_as, submit, redis_client):  # noqa: F811
    client = admin_as(world.desk.trader)
    variant = '{"params": {"slow": 60, "atr_stop": 0.1}}'
    batch = created(submit(client, form_data(world.desk, kind="compare", variant=variant)))
    runs = {r.role: r for r in batch.runs.all()}
    assert (runs["A"].params["fast"], runs["A"].params["slow"]) == (10, 30)
    # B keeps A's fast (10, not the default 12) and changes only what it names.
    assert (runs["B"].params["fast"], runs["B"].params["slow"]) == (10, 60)
    assert runs["B"].params["atr_stop"] == 0.1
    assert batch.spec["variant"] == {"params": {"slow": 60, "atr_stop": 0.1}}  # as asked


@pytest.mark.django_db
def test_a_variant_with_another_strategy_starts_from_its_defaults(world, admin_as, submit):  # noqa: F811
    client = admin_as(world.desk.trader)
    variant = '{"strategy": "breakout", "params": {"entry_period": 30}}'
    batch = created(submit(client, form_data(world.desk, kind="compare", variant=variant)))
    b = batch.runs.get(role="B")
    defaults = registry.get("breakout").schema.defaults()
    assert (b.strategy, b.params) == ("breakout", defaults | {"entry_period": 30})


@pytest.mark.django_db
def test_a_variant_may_drop_the_risk_profile(world, admin_as, submit):  # noqa: F811
    cautious = RiskProfile.objects.create(name="cautious")
    make_config(make_account(world.desk.org), risk_profile=cautious)
    client = admin_as(world.desk.trader)
    data = form_data(
        world.desk, kind="compare", risk_profile=cautious.pk, variant='{"risk_profile": null}'
    )
    runs = {r.role: r for r in created(submit(client, data)).runs.all()}
    assert (runs["A"].risk_profile_name, runs["B"].risk_profile_name) == ("cautious", "")
    assert runs["B"].risk is None


BAD_VARIANTS = [
    ("fractional integer", '{"params": {"fast": 2.5}}', "variant.params.fast: must be an integer"),
    ("unknown parameter", '{"params": {"nope": 1}}',
     "variant.params.nope: is not a parameter of this strategy"),
    ("another strategy's bound", '{"strategy": "breakout", "params": {"entry_period": 1}}',
     "variant.params.entry_period: must be at least 2"),
    ("no change", '{"params": {"slow": 30.0}}', "must change something"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("variant", "message"), [c[1:] for c in BAD_VARIANTS], ids=[c[0] for c in BAD_VARIANTS]
)
def test_a_bad_variant_names_the_parameter_and_creates_nothing(
    world,  # noqa: F811
    admin_as,  # noqa: F811
    submit,  # noqa: F811
    redis_client,
    variant,
    message,
):
    response = submit(
        admin_as(world.desk.trader), form_data(world.desk, kind="compare", variant=variant)
    )
    errors = form_errors(response)
    assert list(errors) == ["variant"]
    assert message in errors["variant"][0]
    assert not BacktestBatch.objects.exists()
    assert queued_runs(redis_client) == []
