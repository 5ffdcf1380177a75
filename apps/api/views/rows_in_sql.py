"""List views whose pages of plain rows are rendered by PostgreSQL."""

from __future__ import annotations

from rest_framework import mixins

from ..serializers import rows_in_sql


# `list` with the page's rows selected as JSON texts (serializers/rows_in_sql.py) when
# the serializer has a plan and the response is written by orjson, which splices them
# in; DRF's own path otherwise (an indented or browsable response, a zone PostgreSQL
# would not know). No docstring: the OpenAPI schema would give it to every list.
class RowsInSqlListMixin(mixins.ListModelMixin):
    def list(self, request, *args, **kwargs):
        plan = rows_in_sql.plan_for(self.get_serializer_class())
        zone = rows_in_sql.active_zone_name()
        writes_with_orjson = getattr(request.accepted_renderer, "writes_with_orjson", None)
        if (
            plan is None
            or zone is None
            or self.paginator is None
            or not (writes_with_orjson and writes_with_orjson(request.accepted_media_type))
        ):
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(plan.select(queryset, self._position_fields(), zone))
        return self.get_paginated_response(plan.fragments(page))

    def _position_fields(self) -> list[str]:
        """Every field the cursor may order by: it reads the page's position from them."""
        ordering = [*getattr(self, "ordering_fields", ()), *(getattr(self, "ordering", ()) or ())]
        return sorted({"id", *(name.lstrip("-") for name in ordering)})
