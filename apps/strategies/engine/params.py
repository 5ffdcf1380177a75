"""Declared strategy parameters: one schema validates input, describes the admin form
and produces the API's JSON Schema."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ParameterError, ParameterErrors


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter. ``kind`` is "int", "float", "bool" or "choice"."""

    name: str
    kind: str
    default: Any
    label: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def clean(self, value: Any) -> Any:
        """Coerce and validate one value; raise ParameterError naming the rule."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ParameterError(self.name, "must be true or false")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise ParameterError(self.name, f"must be one of {', '.join(self.choices)}")
            return value
        if isinstance(value, bool):
            raise ParameterError(
                self.name, f"must be {'an integer' if self.kind == 'int' else 'a number'}"
            )
        if self.kind == "int":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise ParameterError(self.name, "must be an integer")
        else:
            if not isinstance(value, int | float):
                raise ParameterError(self.name, "must be a number")
            value = float(value)
            if not math.isfinite(value):
                raise ParameterError(self.name, "must be a finite number")
        if self.minimum is not None and value < self.minimum:
            raise ParameterError(self.name, f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ParameterError(self.name, f"must be at most {self.maximum}")
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "title": self.label,
            "description": self.help,
            "default": self.default,
        }
        if self.kind == "choice":
            schema.update(type="string", enum=list(self.choices))
        elif self.kind == "bool":
            schema["type"] = "boolean"
        else:
            schema["type"] = "integer" if self.kind == "int" else "number"
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        return schema


def int_param(name, default, *, minimum, maximum, label, help_text) -> Param:
    return Param(name, "int", default, label, help_text, minimum, maximum)


def float_param(name, default, *, minimum, maximum, label, help_text) -> Param:
    return Param(name, "float", float(default), label, help_text, minimum, maximum)


def bool_param(name, default, *, label, help_text) -> Param:
    return Param(name, "bool", default, label, help_text)


def choice_param(name, default, *, choices, label, help_text) -> Param:
    return Param(name, "choice", default, label, help_text, choices=tuple(choices))


@dataclass(frozen=True)
class ParamSchema:
    """An ordered set of parameters plus cross-field rules.

    ``checks`` are callables taking the cleaned values and returning None or a
    ParameterError (e.g. "fast must be below slow").
    """

    params: tuple[Param, ...]
    checks: tuple[Callable[[Mapping[str, Any]], ParameterError | None], ...] = field(default=())

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate parameter names in {names}")
        for param in self.params:
            param.clean(param.default)  # a bad default is a programming error

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def validate(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return a complete, cleaned parameter dict or raise ParameterErrors listing
        every broken rule. Unknown names are errors, missing ones take defaults."""
        cleaned = self.clean_each(values)
        broken = self.broken_rules(cleaned)
        if broken:
            raise ParameterErrors(broken)
        return cleaned

    def clean_each(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Each value checked on its own (type, bounds, choices; unknown names), the
        cross-field rules not yet: a sweep skips combinations that break those."""
        values = dict(values or {})
        errors: list[ParameterError] = []
        known = {p.name for p in self.params}
        errors.extend(
            ParameterError(name, "is not a parameter of this strategy")
            for name in sorted(set(values) - known)
        )
        cleaned: dict[str, Any] = {}
        for param in self.params:
            try:
                cleaned[param.name] = param.clean(values.get(param.name, param.default))
            except ParameterError as exc:
                errors.append(exc)
        if errors:
            raise ParameterErrors(errors)
        return cleaned

    def broken_rules(self, cleaned: Mapping[str, Any]) -> list[ParameterError]:
        """The cross-field rules that values from `clean_each` break."""
        return [problem for check in self.checks if (problem := check(cleaned)) is not None]

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {p.name: p.json_schema() for p in self.params},
        }

    def form_fields(self) -> list[dict[str, Any]]:
        """Plain descriptions the admin turns into form fields (no Django here)."""
        return [
            {
                "name": p.name,
                "kind": p.kind,
                "label": p.label,
                "help_text": p.help,
                "initial": p.default,
                "min_value": p.minimum,
                "max_value": p.maximum,
                "choices": list(p.choices),
            }
            for p in self.params
        ]


@dataclass(frozen=True, slots=True)
class LessThan:
    """Cross-field rule: ``lower`` must be strictly below ``upper``."""

    lower: str
    upper: str

    def __call__(self, values: Mapping[str, Any]) -> ParameterError | None:
        if values[self.lower] >= values[self.upper]:
            return ParameterError(self.lower, f"must be below {self.upper}")
        return None


def less_than(lower: str, upper: str) -> LessThan:
    """Cross-field rule: ``lower`` must be strictly below ``upper``."""
    return LessThan(lower, upper)
