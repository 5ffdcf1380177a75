"""Filtering and ordering declared per view; a bad value is a validation error naming
the parameter and the rule, never silently ignored."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.dateparse import parse_datetime
from rest_framework.filters import BaseFilterBackend, OrderingFilter

from apps.core.errors import ValidationError


@dataclass(frozen=True)
class Filter:
    lookup: str
    kind: str = "text"  # text | int | choice | datetime | bool
    choices: tuple[str, ...] = ()
    description: str = ""

    def parse(self, name: str, raw: str):
        if self.kind == "int":
            if not raw.isdigit() or len(raw) > 18:
                raise ValidationError(name, "must be a positive whole number")
            return int(raw)
        if self.kind == "choice":
            if raw not in self.choices:
                raise ValidationError(name, f"must be one of {', '.join(self.choices)}")
            return raw
        if self.kind == "bool":
            if raw not in ("true", "false"):
                raise ValidationError(name, "must be true or false")
            return raw == "true"
        if self.kind == "datetime":
            try:
                value = parse_datetime(raw)
            except ValueError:
                value = None
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValidationError(name, "must be an ISO 8601 date-time with a time zone")
            # PostgreSQL refuses offsets beyond ±15:59; real zones stay within ±14:00.
            if abs(value.utcoffset()) > timedelta(hours=14):
                raise ValidationError(name, "must have a time zone offset within ±14:00")
            try:
                return value.astimezone(UTC)
            except OverflowError:
                raise ValidationError(
                    name, "must be a date-time within the years 1 to 9999"
                ) from None
        if len(raw) > 200:
            raise ValidationError(name, "must be at most 200 characters")
        return raw

    def schema(self, name: str) -> dict:
        types = {"int": {"type": "integer", "minimum": 0}, "bool": {"type": "boolean"}}
        schema = types.get(self.kind, {"type": "string"})
        if self.kind == "choice":
            schema = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "datetime":
            schema = {"type": "string", "format": "date-time"}
        elif self.kind == "text":
            schema = {"type": "string", "maxLength": 200}
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": schema,
        }


class DeclaredFilters(BaseFilterBackend):
    """Applies `view.filters` ({parameter: Filter}) to the list action."""

    def filter_queryset(self, request, queryset, view):
        for name, spec in (getattr(view, "filters", None) or {}).items():
            raw = request.query_params.get(name)
            if raw is None or (raw == "" and spec.kind == "text"):
                continue
            queryset = queryset.filter(**{spec.lookup: spec.parse(name, raw)})
        return queryset

    def get_schema_operation_parameters(self, view):
        return [spec.schema(name) for name, spec in (getattr(view, "filters", None) or {}).items()]


class Ordering(OrderingFilter):
    """`?ordering=field` or `-field`, among `view.ordering_fields` only."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            allowed = list(getattr(view, "ordering_fields", None) or [])
            terms = [t.strip() for t in raw.split(",") if t.strip()]
            if len(terms) != 1 or terms[0].lstrip("-") not in allowed:
                choices = ", ".join(f"{f}, -{f}" for f in allowed)
                raise ValidationError(self.ordering_param, f"must be one of {choices}")
            return terms
        return self.get_default_ordering(view)

    def get_schema_operation_parameters(self, view):
        allowed = list(getattr(view, "ordering_fields", None) or [])
        if not allowed:
            return []
        return [
            {
                "name": self.ordering_param,
                "in": "query",
                "required": False,
                "description": "One field; prefix with '-' for descending order.",
                "schema": {
                    "type": "string",
                    "enum": [v for f in allowed for v in (f, f"-{f}")],
                },
            }
        ]
