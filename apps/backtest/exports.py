"""A backtest's result as CSV, XLSX (openpyxl) or PDF (reportlab): settings, metrics,
Monte Carlo intervals, the trade list and, in XLSX, the equity curve."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from .models import Backtest

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
TRADE_COLUMNS = (
    "symbol", "entry_time", "exit_time", "quantity", "entry_price", "exit_price", "pnl",
    "fees", "return_pct", "r_multiple", "exit_reason",
)  # fmt: skip


def _time(ms) -> str:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).isoformat(timespec="minutes")


def settings_rows(backtest: Backtest) -> list[tuple[str, str]]:
    return [
        ("name", backtest.name),
        ("strategy", f"{backtest.strategy} {backtest.strategy_version}"),
        ("params", ", ".join(f"{k}={v}" for k, v in sorted(backtest.params.items()))),
        ("risk_profile", backtest.risk_profile_name or "-"),
        ("symbols", ", ".join(backtest.symbols)),
        ("interval", backtest.interval),
        ("start", backtest.start.isoformat()),
        ("end", backtest.end.isoformat()),
        ("fill_model", backtest.fill_mode),
        ("commission", str(backtest.commission.normalize())),
        ("slippage", str(backtest.slippage.normalize())),
        ("initial_cash", str(backtest.initial_cash.normalize())),
    ]


def metric_rows(backtest: Backtest) -> list[tuple[str, object]]:
    rows = list(backtest.metrics.items())
    for kind in ("max_drawdown", "total_return"):
        for p, v in (backtest.monte_carlo.get(kind) or {}).items():
            rows.append((f"monte_carlo_{kind}_{p}", v))
    return rows


def trade_rows(backtest: Backtest) -> list[list]:
    out = []
    for t in backtest.trades:
        row = [t.get(c) for c in TRADE_COLUMNS]
        row[1], row[2] = _time(t["entry_time"]), _time(t["exit_time"])
        out.append(row)
    return out


def to_csv(backtest: Backtest) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", "value"])
    for key, value in settings_rows(backtest):
        writer.writerow(["setting", key, value])
    for key, value in metric_rows(backtest):
        writer.writerow(["metric", key, value])
    writer.writerow([])
    writer.writerow(TRADE_COLUMNS)
    writer.writerows(trade_rows(backtest))
    return buffer.getvalue().encode("utf-8")


def to_xlsx(backtest: Backtest) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    for row in [*settings_rows(backtest), *metric_rows(backtest)]:
        summary.append(list(row))
    trades = book.create_sheet("Trades")
    trades.append(list(TRADE_COLUMNS))
    for row in trade_rows(backtest):
        trades.append(row)
    curve = book.create_sheet("Equity")
    curve.append(["open_time", "equity"])
    times, equity = backtest.unpack_curve()
    for ms, value in zip(times.tolist(), equity.tolist(), strict=True):
        curve.append([_time(ms), value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(backtest: Backtest) -> bytes:
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .charts import reduce_curve

    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=backtest.name)
    grid = TableStyle(
        [("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 7)]
    )

    def table(rows):
        return Table([[str(c) if c is not None else "" for c in r] for r in rows], style=grid)

    story = [Paragraph(_("Backtest: %(name)s") % {"name": backtest.name}, styles["Title"])]
    story += [table(settings_rows(backtest)), Spacer(1, 8)]
    times, equity = backtest.unpack_curve()
    if equity.size > 1:
        x, y = reduce_curve(times.astype(float), equity, max_points=400)
        drawing = Drawing(480, 160)
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 40, 15, 430, 135
        plot.data = [list(zip(((x - x[0]) / 86_400_000).tolist(), y.tolist(), strict=True))]
        plot.lines[0].strokeColor = colors.blue
        drawing.add(plot)
        story += [Paragraph(_("Equity (days from the start)"), styles["Heading3"]), drawing]
    story += [Paragraph(_("Metrics"), styles["Heading3"]), table(metric_rows(backtest))]
    story += [Paragraph(_("Trades"), styles["Heading3"])]
    rows = trade_rows(backtest)
    story.append(table([TRADE_COLUMNS, *rows[:500]]))
    if len(rows) > 500:
        story.append(
            Paragraph(_("First 500 trades; the CSV and XLSX hold them all."), styles["Normal"])
        )
    doc.build(story)
    return out.getvalue()


def export(backtest: Backtest, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name)."""
    writers = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}
    content = writers[fmt](backtest)
    return content, FORMATS[fmt], f"backtest-{backtest.pk}.{fmt}"
