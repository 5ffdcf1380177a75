"""Rendering of read-only rows for the large list endpoints, several times cheaper
than DRF's generic path and identical in output.

DRF renders each field of each row through `get_attribute` (a generic attribute walk
with exception handling), then the field's `to_representation`; a decimal copies the
decimal context and recomputes its exponent for every value. A page of 50 orders is
1,300 of those, about half the CPU of a list request (docs/performance.md, "Load").
Here each field's reader and renderer are worked out once per serializer (a list
shares one child serializer for all its rows): a foreign key reads its id column, a
decimal quantizes with a precomputed exponent and context, anything unusual falls back
to DRF's own field methods. `tests/api/test_row_rendering.py` compares the two paths
on real rows, None values included.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from rest_framework import fields, serializers
from rest_framework.fields import DateTimeField, DecimalField, Field, SkipField
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField
from rest_framework.settings import ISO_8601, api_settings

Step = tuple[str, Callable, Callable]


# A ModelSerializer for rows that are only ever read (see the module's note). No
# docstring on purpose: the OpenAPI schema would give it to every resource.
class ReadOnlyRowSerializer(serializers.ModelSerializer):
    def to_representation(self, instance):
        plan = type(self).__dict__.get("_shared_row_plan") or self.__dict__.get("_row_plan")
        if plan is None:
            readable = list(self._readable_fields)
            plan = self._row_plan = [_step(self.Meta.model, field) for field in readable]
            if all(_context_free(field) for field in readable):
                # Nothing in it depends on the request: later serializers of this class
                # skip building their fields too (ModelSerializer introspects the model
                # for every instance, the other half of the cost).
                type(self)._shared_row_plan = plan
        row = {}
        zone = None
        for name, read, render in plan:
            value = read(instance)
            if value is None:
                row[name] = None
            elif render.__class__ is _ZonedDatetime:
                # The active time zone, read once per row rather than per field.
                if zone is None:
                    zone = timezone.get_current_timezone()
                row[name] = render(value, zone)
            else:
                row[name] = render(value)
        return row


# Fields whose rendering reads nothing but the value (and the active time zone).
_CONTEXT_FREE = (
    fields.BooleanField, fields.CharField, fields.ChoiceField, fields.DateTimeField,
    fields.DecimalField, fields.FloatField, fields.IntegerField, fields.JSONField,
    fields.ReadOnlyField, fields.UUIDField, fields.DateField,
)  # fmt: skip


def _context_free(field) -> bool:
    if isinstance(field, PrimaryKeyRelatedField):
        return field.pk_field is None and type(field) is PrimaryKeyRelatedField
    return isinstance(field, _CONTEXT_FREE) and field.source != "*"


def _step(model, field) -> Step:
    source = field.source_attrs
    column = _foreign_key_column(model, field)
    if column:
        # DRF renders the related object's pk: its id column, without loading it.
        return field.field_name, attrgetter(column), _same
    if len(source) != 1 or type(field).get_attribute is not Field.get_attribute:
        return field.field_name, _generic_reader(field), field.to_representation
    return field.field_name, attrgetter(source[0]), _renderer(field)


def _foreign_key_column(model, field) -> str | None:
    if not isinstance(field, PrimaryKeyRelatedField) or len(field.source_attrs) != 1:
        return None
    if field.pk_field is not None or not field.use_pk_only_optimization():
        return None
    try:
        model_field = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None
    single = model_field.many_to_one or model_field.one_to_one
    return model_field.attname if single and model_field.concrete else None


def _generic_reader(field) -> Callable:
    """DRF's own reading, None standing for the values it renders as null."""

    def read(instance):
        try:
            value = field.get_attribute(instance)
        except SkipField:  # pragma: no cover - no read-only row field skips
            return None
        return None if (value.pk if isinstance(value, PKOnlyObject) else value) is None else value

    return read


def _renderer(field) -> Callable:
    if type(field) is DecimalField and _plain_decimal(field):
        exponent = decimal.Decimal(".1") ** field.decimal_places
        context = decimal.getcontext().copy()
        if field.max_digits is not None:
            context.prec = field.max_digits
        rounding = field.rounding

        def render_decimal(value):
            if not isinstance(value, decimal.Decimal):
                value = decimal.Decimal(str(value).strip())
            return f"{value.quantize(exponent, rounding=rounding, context=context):f}"

        return render_decimal
    if type(field) is DateTimeField and _plain_datetime(field):
        return _ZonedDatetime(field)
    # DRF's own renderings of these two, without the method call.
    return _BUILTIN_RENDERINGS.get(type(field), field.to_representation)


def _plain_datetime(field) -> bool:
    """ISO 8601 in the active time zone: DRF's default rendering of a datetime."""
    output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return (
        settings.USE_TZ
        and not hasattr(field, "timezone")
        and isinstance(output, str)
        and output.lower() == ISO_8601
    )


class _ZonedDatetime:
    """DRF's `DateTimeField.to_representation` of an aware datetime (what the database
    returns) in the zone the row passes in, without DRF's per-value lookups of the
    active zone (a context-local read each); anything else takes DRF's own path."""

    __slots__ = ("field",)

    def __init__(self, field: DateTimeField):
        self.field = field

    def __call__(self, value, zone) -> str:
        if type(value) is not datetime.datetime or value.utcoffset() is None:
            return self.field.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:  # DRF's own error for it
            return self.field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text


_BUILTIN_RENDERINGS = {fields.CharField: str, fields.IntegerField: int}


def _plain_decimal(field) -> bool:
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    return (
        coerce
        and not field.localize
        and not field.normalize_output
        and field.decimal_places is not None
    )


def _same(value):
    return value
