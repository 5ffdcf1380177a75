"""Read-only rows rendered to JSON by PostgreSQL, for pages of the large lists.

A list request spent about a third of the web process's CPU turning a page of rows
into model instances and rendering each of their 20-odd fields in Python
(docs/performance.md, "Load"). For a `ReadOnlyRowSerializer` whose every field is a
plain column, the page's query can instead select each row as one JSON text, built by
PostgreSQL in the same form the serializer writes, and the renderer splices those texts
into the response unchanged (`orjson.Fragment`). The query keeps its filters, scoping,
ordering and cursor; only its select list changes.

Same output as the serializer, field for field: ids, numbers, booleans and strings as
`to_json` writes them; decimals as strings with the column's scale (the serializer
quantizes to the same places); datetimes in ISO 8601 in the active time zone, `Z` for
UTC and no fraction when it is zero, as DRF writes them. JSON columns are PostgreSQL's
text of the stored value: the same document, spaced differently. A serializer with any
other kind of field has no plan and renders in Python. `tests/api/test_rows_in_sql.py`
compares the two on real rows.
"""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import dataclass

import orjson
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Expression, TextField
from django.utils import timezone
from rest_framework import fields
from rest_framework.relations import PrimaryKeyRelatedField
from rest_framework.settings import api_settings

from .rows import ReadOnlyRowSerializer, _foreign_key_column, _plain_datetime, _plain_decimal

ROW_ALIAS = "_row_json"

# How each kind of column becomes JSON text in SQL (`{c}` is the column).
_AS_JSON = "to_json({c})::text"
_AS_DECIMAL = "'\"' || ({c})::text || '\"'"
_AS_JSON_COLUMN = "({c})::text"
# ISO 8601 with microseconds, the fraction dropped when it is zero (as Python does).
_LOCAL_ISO = "replace(to_char({c} AT TIME ZONE {z}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
# Seconds east of UTC of the moment in the zone, for the offset's sign and digits.
_SHIFT = "extract(epoch from (({c} AT TIME ZONE %s) - ({c} AT TIME ZONE 'UTC')))::int"
_OFFSET = (
    "CASE WHEN {s} = 0 THEN 'Z' ELSE"
    " (CASE WHEN {s} < 0 THEN '-' ELSE '+' END)"
    " || to_char(make_interval(secs => abs({s})), 'HH24:MI')"
    " || (CASE WHEN abs({s}) %% 60 = 0 THEN ''"
    " ELSE to_char(make_interval(secs => abs({s})), ':SS') END)"
    " END"
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    key: str  # the JSON key
    column: str  # the model field's attribute name
    kind: str  # "json", "decimal", "datetime" or "json_column"


class RowJson(Expression):
    """One row as the JSON object its serializer would write, as text."""

    output_field = TextField()

    def __init__(self, columns: tuple[Column, ...], zone: str):
        super().__init__()
        self.columns = columns
        self.zone = zone
        self.refs: list = []

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        # Every column is the queried model's own: its Col on the base table, without
        # resolving a path per name as F() does (a tenth of a list request's CPU).
        resolved = self.copy()
        alias = query.get_initial_alias()
        opts = query.get_meta()
        resolved.refs = [opts.get_field(column.column).get_col(alias) for column in self.columns]
        return resolved

    def get_source_expressions(self):
        return self.refs

    def set_source_expressions(self, exprs):
        self.refs = list(exprs)

    def as_sql(self, compiler, connection):
        # The SQL depends only on the columns, the zone and how the table is named in
        # this query (the first column's SQL shows it): built once, not per request
        # (compiling 20-odd columns was 3% of a list request's CPU).
        first, first_params = compiler.compile(self.refs[0])
        key = (self.columns, self.zone, first, tuple(first_params), connection.alias)
        compiled = _COMPILED.get(key)
        if compiled is None:
            if len(_COMPILED) >= _COMPILED_KEPT:
                _COMPILED.clear()
            compiled = _COMPILED[key] = self._compile(compiler)
        sql, params = compiled
        return sql, list(params)

    def _compile(self, compiler) -> tuple[str, tuple]:
        parts, params = [], []
        for n, (column, ref) in enumerate(zip(self.columns, self.refs, strict=True)):
            sql, ref_params = compiler.compile(ref)
            value, value_params = self._value(column.kind, sql, list(ref_params))
            key = ("{" if n == 0 else ",") + json.dumps(column.key) + ":"
            parts.append(f"{_literal(key)} || COALESCE({value}, 'null')")
            params.extend(value_params)
        parts.append("'}'")
        return "(" + " || ".join(parts) + ")", tuple(params)

    def _value(self, kind: str, sql: str, params: list) -> tuple[str, list]:
        if kind == "decimal":
            return _AS_DECIMAL.format(c=sql), params
        if kind == "json_column":
            return _AS_JSON_COLUMN.format(c=sql), params
        if kind != "datetime":
            return _AS_JSON.format(c=sql), params
        if self.zone == "UTC":  # the usual zone: written into the SQL, no offset to work out
            return f"'\"' || {_LOCAL_ISO.format(c=sql, z=_literal('UTC'))} || 'Z\"'", params
        local = _LOCAL_ISO.format(c=sql, z="%s")
        shift = f"({_SHIFT.format(c=sql)})"
        offset = _OFFSET.format(s=shift)
        # The offset names the moment's shift several times, each naming the column
        # twice and the zone once.
        offset_params = [*params, self.zone, *params] * _OFFSET.count("{s}")
        return f"'\"' || {local} || ({offset}) || '\"'", [*params, self.zone, *offset_params]


# Compiled rows by (columns, zone, table naming, database): a few per serializer.
_COMPILED: dict[tuple, tuple[str, tuple]] = {}
_COMPILED_KEPT = 256


def _literal(text: str) -> str:
    """A SQL string literal, its `%` doubled for the driver's placeholders."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


class RowPlan:
    """How to have PostgreSQL render one serializer's rows."""

    def __init__(self, columns: tuple[Column, ...]):
        self.columns = columns

    def select(self, queryset, keep: list[str], zone: str):
        """The queryset's rows as {ROW_ALIAS: json text} in `zone` (an IANA name, see
        `active_zone_name`), plus the `keep` fields: the cursor pagination reads its
        position from the ordering field."""
        return queryset.values(*keep, **{ROW_ALIAS: RowJson(self.columns, zone)})

    @staticmethod
    def fragments(rows) -> list[orjson.Fragment]:
        return [orjson.Fragment(row[ROW_ALIAS]) for row in rows]


def active_zone_name() -> str | None:
    """The active zone as PostgreSQL knows it, None for a zone without an IANA name."""
    zone = timezone.get_current_timezone()
    return zone.key if isinstance(zone, zoneinfo.ZoneInfo) else None


_PLANS: dict[type, RowPlan | None] = {}


def plan_for(serializer_class) -> RowPlan | None:
    """The serializer's plan, or None if any of its fields must render in Python."""
    if serializer_class not in _PLANS:
        _PLANS[serializer_class] = _build_plan(serializer_class)
    return _PLANS[serializer_class]


def _build_plan(serializer_class) -> RowPlan | None:
    if not issubclass(serializer_class, ReadOnlyRowSerializer) or (
        serializer_class.to_representation is not ReadOnlyRowSerializer.to_representation
    ):
        return None
    model = serializer_class.Meta.model
    columns = []
    for field in serializer_class()._readable_fields:
        column = _column(model, field)
        if column is None:
            return None
        columns.append(column)
    return RowPlan(tuple(columns))


def _column(model, field) -> Column | None:
    key = field.field_name
    if isinstance(field, PrimaryKeyRelatedField):
        attname = _foreign_key_column(model, field)
        return Column(key, attname, "json") if attname else None
    if len(field.source_attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:  # a property or method: only Python can read it
        return None
    if not model_field.concrete or model_field.is_relation:
        return None
    kind = _kind(field, model_field)
    return Column(key, model_field.attname, kind) if kind else None


def _kind(field, model_field) -> str | None:
    kind = type(field)
    if kind is fields.DecimalField:
        same_scale = (field.decimal_places, field.max_digits) == (
            model_field.decimal_places,
            model_field.max_digits,
        )
        plain = _plain_decimal(field) and isinstance(model_field, models.DecimalField)
        return "decimal" if plain and same_scale else None
    if kind is fields.DateTimeField:
        plain = _plain_datetime(field) and isinstance(model_field, models.DateTimeField)
        return "datetime" if plain else None
    if kind is fields.JSONField:
        plain = not field.binary and isinstance(model_field, models.JSONField)
        return "json_column" if plain and model_field.decoder is None else None
    if kind is fields.BigIntegerField and getattr(
        field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING
    ):
        return None
    if kind in (fields.BigIntegerField, fields.IntegerField, fields.BooleanField):
        return "json"
    if kind in (fields.CharField, fields.ChoiceField) and isinstance(
        model_field, models.CharField | models.TextField
    ):
        return "json"
    return None
