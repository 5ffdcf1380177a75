"""CSV and XLSX exports of audit events (every export is itself audited)."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from .chain import HASHED_FIELDS
from .models import AuditEvent

# The hashed fields, time first for people reading a spreadsheet, then the hash.
COLUMNS = (
    "occurred_at",
    *(name for name in HASHED_FIELDS if name != "occurred_at"),
    "hash",
)
# A spreadsheet evaluates a cell starting with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value) -> str:
    """A value as safe spreadsheet text (times ISO, JSON for structures, formulas defused)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def rows(events: Iterable[AuditEvent]) -> Iterator[list[str]]:
    yield list(COLUMNS)
    for event in events:
        yield [spreadsheet_cell(getattr(event, name)) for name in COLUMNS]


class _Echo:
    def write(self, value):
        return value


def _filename(extension: str) -> str:
    return f"audit-events-{timezone.now():%Y%m%dT%H%M%SZ}.{extension}"


def csv_response(events) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows(events.iterator(chunk_size=2000))),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def xlsx_response(events) -> HttpResponse:
    from openpyxl import Workbook  # imported on use: only exports need it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("audit events")
    for row in rows(events.iterator(chunk_size=2000)):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response
