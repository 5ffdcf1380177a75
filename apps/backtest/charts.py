"""Equity and drawdown charts as server-side SVG (no JavaScript, no CDN).

Long curves are reduced to at most ``max_points`` by keeping each bucket's lowest and
highest point, so no drawdown trough or peak disappears from the picture.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

import numpy as np
from django.utils.translation import gettext as _


def reduce_curve(x: np.ndarray, y: np.ndarray, max_points: int = 800) -> tuple[np.ndarray, ...]:
    n = y.size
    if n <= max_points:
        return x, y
    buckets = np.array_split(np.arange(n), max_points // 2)
    keep = sorted(
        {int(b[np.argmin(y[b])]) for b in buckets} | {int(b[np.argmax(y[b])]) for b in buckets}
    )
    keep = np.array(sorted(set(keep) | {0, n - 1}))
    return x[keep], y[keep]


def _label(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def line_chart(
    x: np.ndarray,
    y: np.ndarray,
    *,
    title: str,
    width: int = 760,
    height: int = 220,
    color: str = "#2563eb",
    fill_to_zero: bool = False,
    percent: bool = False,
) -> str:
    """An SVG line chart of y over x (ms) with min/max and date labels."""
    pad_l, pad_r, pad_t, pad_b = 70, 10, 24, 22
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<text x="{pad_l}" y="15" font-size="12" font-family="sans-serif">{escape(title)}</text>'
    )
    if y.size == 0:
        return head + "</svg>"
    x, y = reduce_curve(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    lo, hi = float(y.min()), float(y.max())
    if fill_to_zero:
        hi = max(hi, 0.0)
    span_y = hi - lo or 1.0
    x0, x1 = float(x[0]), float(x[-1])
    span_x = x1 - x0 or 1.0
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    px = pad_l + (x - x0) / span_x * plot_w
    py = pad_t + (hi - y) / span_y * plot_h
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
    fmt = (lambda v: f"{v * 100:.1f}%") if percent else (lambda v: f"{v:,.2f}")
    parts = [
        head,
        f'<rect x="{pad_l}" y="{pad_t}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#ccc"/>',
    ]
    if fill_to_zero:
        base = pad_t + hi / span_y * plot_h
        parts.append(
            f'<polygon points="{pad_l:.1f},{base:.1f} {points} {px[-1]:.1f},{base:.1f}" '
            f'fill="{color}" fill-opacity="0.25" stroke="none"/>'
        )
    parts += [
        f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.2"/>',
        f'<text x="{pad_l - 4}" y="{pad_t + 9}" font-size="10" text-anchor="end" '
        f'font-family="sans-serif">{escape(fmt(hi))}</text>',
        f'<text x="{pad_l - 4}" y="{pad_t + plot_h}" font-size="10" text-anchor="end" '
        f'font-family="sans-serif">{escape(fmt(lo))}</text>',
        f'<text x="{pad_l}" y="{height - 6}" font-size="10" '
        f'font-family="sans-serif">{_label(x0)}</text>',
        f'<text x="{width - pad_r}" y="{height - 6}" font-size="10" text-anchor="end" '
        f'font-family="sans-serif">{_label(x1)}</text>',
        "</svg>",
    ]
    return "".join(parts)


def equity_svg(times: np.ndarray, equity: np.ndarray, **kw) -> str:
    return line_chart(times, equity, title=_("Equity"), **kw)


def drawdown_svg(times: np.ndarray, equity: np.ndarray, **kw) -> str:
    if equity.size == 0:
        return line_chart(times, equity, title=_("Drawdown"), **kw)
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    return line_chart(
        times, drawdown, title=_("Drawdown"), color="#dc2626", fill_to_zero=True, percent=True, **kw
    )
