"""Horizontal bar charts as inline SVG: the report's charts need no script and no image file."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_HEIGHT = 18
GAP = 4
LABEL_WIDTH = 190
BAR_WIDTH = 320
VALUE_WIDTH = 110


def _number(value: float) -> str:
    """Counts as integers; measurements with the precision that matters at their size."""
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def bar_chart(
    rows: Sequence[tuple[str, float]], *, title: str, unit: str = "", color: str = "#4e79a7"
) -> Markup:
    """One bar per (label, value); bars scale to the largest value. Labels are escaped."""
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    top = max((v for _, v in rows), default=0) or 1
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = GAP + i * (BAR_HEIGHT + GAP)
        text_y = y + BAR_HEIGHT - 5
        bar = max(1.0, BAR_WIDTH * value / top) if value else 0.0
        shown = label if len(label) <= 30 else label[:29] + "…"
        parts += [
            f'<text x="{LABEL_WIDTH - 6}" y="{text_y}" text-anchor="end">{escape(shown)}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" fill="{color}"/>',
            f'<text x="{LABEL_WIDTH + bar + 4:.1f}" y="{text_y}">{escape(_number(value) + unit)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
