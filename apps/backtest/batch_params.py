"""The batch form's grid and variant parameters, read exactly before `create_batch`.

A grid entry is a list of values, ``{"fast": [5, 10, 20]}``, or a range whose stop is
included, ``{"fast": {"start": 5, "stop": 20, "step": 5}}`` (5, 10, 15, 20); ranges are
expanded here into the list the service takes (the API knows lists only). The form's
JSON keeps decimals as `Decimal`, and counting, stepping and bound checks stay in
Decimal, so 0.1 + 0.1 + 0.1 is 0.3 and a typed 0.1 is not below a minimum of 0.1: only
each final value becomes the parameter's int or float. Every problem names its path
(``grid.fast.step``); the service then checks the combinations (cross-field rules, its
run limit) as it does for the API.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

from django.utils.translation import gettext as _

from apps.strategies.engine import ParameterError
from apps.strategies.engine.params import Param, ParamSchema

RANGE_KEYS = ("start", "stop", "step")
NUMERIC_KINDS = ("int", "float")
# A parameter without bounds still gets some: int(Decimal("1e999999")) would take ages.
MAGNITUDE_LIMIT = Decimal("1e15")


class ParameterInputErrors(Exception):
    """Every problem found, as (path, rule) pairs, in the order of the input."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{path}: {rule}" for path, rule in problems))
        self.problems = problems

    def messages(self) -> list[str]:
        return [f"{path}: {rule}" for path, rule in self.problems]


# --- one value ---------------------------------------------------------------------------


def exact_value(param: Param, raw):
    """``raw`` (as JSON decoded it: int, Decimal, bool, str...) as ``param``'s value, or
    ParameterError naming the rule."""
    if param.kind not in NUMERIC_KINDS:
        return param.clean(raw)
    return _as_kind(param, _bounded(param, _number(param, raw)))


def _number(param: Param, raw) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise ParameterError(param.name, _wanted(param))
    number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    if not number.is_finite():
        raise ParameterError(param.name, _("must be a finite number"))
    if param.kind == "int" and number != number.to_integral_value():
        raise ParameterError(param.name, _("must be an integer"))
    return number


def _wanted(param: Param) -> str:
    return _("must be an integer") if param.kind == "int" else _("must be a number")


def _bounded(param: Param, number: Decimal) -> Decimal:
    # The bounds as written (repr), not as binary floats: 0.1 is not below 0.1.
    if param.minimum is not None and number < Decimal(repr(param.minimum)):
        raise ParameterError(param.name, _("must be at least %s") % param.minimum)
    if param.maximum is not None and number > Decimal(repr(param.maximum)):
        raise ParameterError(param.name, _("must be at most %s") % param.maximum)
    if number.copy_abs() > MAGNITUDE_LIMIT:  # copy_abs: no rounding, so no overflow
        raise ParameterError(param.name, _("must be at most %s in size") % MAGNITUDE_LIMIT)
    return number


def _as_kind(param: Param, number: Decimal):
    # param.clean: whatever else the engine's rule says applies unchanged.
    return param.clean(int(number) if param.kind == "int" else float(number))


# --- the grid -----------------------------------------------------------------------------


def expand_grid(schema: ParamSchema, grid: dict, *, max_configurations: int) -> dict:
    """``{name: [values] | {"start", "stop", "step"}}`` -> ``{name: [values]}``, each value
    the parameter's int, float, bool or choice; raises ParameterInputErrors listing every
    problem, including a product of more than ``max_configurations``."""
    params = {p.name: p for p in schema.params}
    problems: list[tuple[str, str]] = []
    expanded: dict[str, list] = {}
    for name, entry in grid.items():
        param = params.get(name)
        if param is None:
            problems.append((f"grid.{name}", _("is not a parameter of this strategy")))
            continue
        try:
            expanded[name] = _entry_values(param, entry, max_configurations)
        except ParameterInputErrors as exc:
            problems.extend(exc.problems)
    if not problems:
        total = math.prod(len(values) for values in expanded.values())
        if total > max_configurations:
            rule = _("must expand to at most %(max)s combinations (this one: %(total)s)")
            problems.append(("grid", rule % {"max": max_configurations, "total": total}))
    if problems:
        raise ParameterInputErrors(problems)
    return expanded


def _entry_values(param: Param, entry, limit: int) -> list:
    if isinstance(entry, list | tuple):
        return _listed(param, entry)
    if isinstance(entry, dict):
        return _ranged(param, entry, limit)
    rule = _("must be a list of values or a range {start, stop, step}")
    raise ParameterInputErrors([(f"grid.{param.name}", rule)])


def _listed(param: Param, entry) -> list:
    path = f"grid.{param.name}"
    if not entry:
        raise ParameterInputErrors([(path, _("must list at least one value"))])
    values, problems = [], []
    for index, raw in enumerate(entry):
        try:
            value = exact_value(param, raw)
        except ParameterError as exc:
            problems.append((f"{path}[{index}]", exc.rule))
            continue
        if value in values:
            problems.append((f"{path}[{index}]", _("repeats %s") % value))
        values.append(value)
    if problems:
        raise ParameterInputErrors(problems)
    return values


def _ranged(param: Param, entry: dict, limit: int) -> list:
    path = f"grid.{param.name}"
    if param.kind not in NUMERIC_KINDS:
        raise ParameterInputErrors([(path, _("takes a list of values, not a range"))])
    unknown = sorted(set(entry) - set(RANGE_KEYS))
    if unknown:
        rule = _("a range takes start, stop and step, not %s") % ", ".join(unknown)
        raise ParameterInputErrors([(path, rule)])
    start, stop, step = _range_numbers(param, entry)
    if stop < start:
        raise ParameterInputErrors([(f"{path}.stop", _("must be at least start"))])
    count = _range_count(start, stop, step, limit)
    if count is None:
        rule = _("the range holds more than %s values") % limit
        raise ParameterInputErrors([(path, rule)])
    with localcontext(prec=40):  # exact for any values within the magnitude limit
        values = [_as_kind(param, start + step * i) for i in range(count)]
    if len(set(values)) < len(values):  # floats closer than a double can tell apart
        raise ParameterInputErrors([(f"{path}.step", _("is too fine for this parameter"))])
    return values


def _range_numbers(param: Param, entry: dict) -> tuple[Decimal, Decimal, Decimal]:
    path = f"grid.{param.name}"
    problems, numbers = [], {}
    for key in RANGE_KEYS:
        raw = entry.get(key)
        try:
            if raw is None:
                raise ParameterError(param.name, _("is required"))
            number = _number(param, raw)
            if key == "step" and number <= 0:
                raise ParameterError(param.name, _("must be above 0"))
            numbers[key] = number if key == "step" else _bounded(param, number)
        except ParameterError as exc:
            problems.append((f"{path}.{key}", exc.rule))
    if problems:
        raise ParameterInputErrors(problems)
    return numbers["start"], numbers["stop"], numbers["step"]


def _range_count(start: Decimal, stop: Decimal, step: Decimal, limit: int) -> int | None:
    """How many values start, start + step, ... up to stop: None when above ``limit``.
    Compares before dividing, so a step of 1e-999999 or 1e999999 costs nothing."""
    with localcontext(prec=40):
        span = stop - start  # both bounded, so exact for any number a person types
        if step > span:
            return 1
        if span >= step * limit:  # step <= span here: the product cannot overflow
            return None
        return int(span // step) + 1


# --- the variant ------------------------------------------------------------------------


def exact_params(schema: ParamSchema, params: dict, *, path: str) -> dict:
    """Named parameter values (the variant's overrides) as the parameters' values;
    unknown names and bad values are problems under ``path`` (``variant.params``)."""
    known = {p.name: p for p in schema.params}
    problems, out = [], {}
    for name, raw in params.items():
        param = known.get(name)
        try:
            if param is None:
                raise ParameterError(name, _("is not a parameter of this strategy"))
            out[name] = exact_value(param, raw)
        except ParameterError as exc:
            problems.append((f"{path}.{name}", exc.rule))
    if problems:
        raise ParameterInputErrors(problems)
    return out
