"""Exports of an account's trades, orders and fills as CSV, XLSX and PDF.

Cells go through the audit exports' `spreadsheet_cell` (ISO times, formulas defused);
amounts stay exact decimal text. Writers take a row iterator and report progress
through `on_row(n)` so a background export can publish how far it got."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.audit.exports import spreadsheet_cell
from apps.core.decimals import to_wire
from apps.core.errors import ValidationError
from apps.trading.models import Fill, Order, Trade

FORMATS = ("csv", "xlsx", "pdf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CHUNK = 2000


@dataclass(frozen=True)
class ExportKind:
    name: str
    title: object  # a lazy translation
    model: type
    columns: tuple[str, ...]
    ordering: tuple[str, ...]


KINDS = {
    kind.name: kind
    for kind in (
        ExportKind(
            "trades",
            _("Trades"),
            Trade,
            (
                "id",
                "symbol",
                "opened_at",
                "closed_at",
                "quantity",
                "entry_price",
                "exit_price",
                "fees",
                "realized_pnl",
                "realized_pnl_value",
                "return_pct",
            ),
            ("closed_at", "pk"),
        ),
        ExportKind(
            "orders",
            _("Orders"),
            Order,
            (
                "id",
                "created_at",
                "symbol",
                "client_order_id",
                "exchange_order_id",
                "intent",
                "order_type",
                "side",
                "status",
                "quantity",
                "executed_quantity",
                "price",
                "stop_price",
                "status_reason",
            ),
            ("created_at", "pk"),
        ),
        ExportKind(
            "fills",
            _("Fills"),
            Fill,
            (
                "id",
                "executed_at",
                "symbol",
                "side",
                "order_id",
                "exchange_trade_id",
                "price",
                "quantity",
                "quote_quantity",
                "commission",
                "commission_asset",
                "is_maker",
            ),
            ("executed_at", "pk"),
        ),
    )
}


def kind_named(name: str) -> ExportKind:
    if name not in KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(KINDS)}")
    return KINDS[name]


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}")
    return fmt


def cell(value) -> str:
    # Numbers are exact and never a formula: plain text, a minus sign kept.
    if isinstance(value, Decimal):
        return to_wire(value)
    if isinstance(value, bool | int):
        return str(value)
    return spreadsheet_cell(value)


def queryset(kind: ExportKind, account):
    return kind.model.objects.filter(account=account).order_by(*kind.ordering)


def rows(kind: ExportKind, account) -> Iterator[list[str]]:
    """The header, then one list of cells per row, read in chunks."""
    yield list(kind.columns)
    values = queryset(kind, account).values_list(*kind.columns)
    for record in values.iterator(chunk_size=CHUNK):
        yield [cell(value) for value in record]


def filename(kind: ExportKind, account, fmt: str) -> str:
    return f"{kind.name}-account-{account.pk}-{timezone.now():%Y%m%dT%H%M%SZ}.{fmt}"


class _Echo:
    def write(self, value):
        return value


def csv_lines(row_iter: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    return (writer.writerow(row) for row in row_iter)


def _counting(row_iter, on_row: Callable[[int], None] | None):
    for n, row in enumerate(row_iter):
        if on_row is not None and n:  # the header is not a row
            on_row(n)
        yield row


def write_xlsx(row_iter, out: BinaryIO, *, sheet_title: str, on_row=None) -> None:
    from openpyxl import Workbook  # imported on use: only exports need it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    for row in _counting(row_iter, on_row):
        sheet.append(row)
    workbook.save(out)


def write_pdf(row_iter, out: BinaryIO, *, title: str, on_row=None) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    data = list(_counting(row_iter, on_row))
    document = SimpleDocTemplate(out, pagesize=landscape(A4), title=title)
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 6),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 6),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    document.build([Paragraph(escape(title), getSampleStyleSheet()["Heading2"]), table])


def write_file(kind: ExportKind, account, fmt: str, out: BinaryIO, *, on_row=None) -> None:
    """A whole XLSX or PDF export of `account` into `out`."""
    title = f"{kind.title} · {account.name}"
    if fmt == "xlsx":
        write_xlsx(rows(kind, account), out, sheet_title=str(kind.title), on_row=on_row)
    elif fmt == "pdf":
        write_pdf(rows(kind, account), out, title=title, on_row=on_row)
    else:
        raise ValidationError("format", "must be xlsx or pdf for a file export")


def file_bytes(kind: ExportKind, account, fmt: str) -> bytes:
    buffer = io.BytesIO()
    write_file(kind, account, fmt, buffer)
    return buffer.getvalue()
