"""The classes page's plot (pure): a horizontal bar chart of the top weaknesses, built as SVG by
hand (a dozen rectangles and labels; no third-party JavaScript), every label escaped."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from vulnops.variants.schemas import ClassRow

WIDTH, BAR, GAP, LABEL = 720, 18, 8, 300
TITLES = {
    "cases": "Cases per weakness",
    "time": "Median days from report to mitigation",
    "recurrence": "Cases opened after the class was first fixed",
}


def _value(row: ClassRow, order: str) -> float:
    if order == "time":
        return row.median_days_to_fix or 0.0
    if order == "recurrence":
        return float(row.recurrences)
    return float(row.cases)


def top_weaknesses(rows: Sequence[ClassRow], *, order: str, shown: int = 12) -> Markup:
    """The first ``shown`` rows as bars of the measure the page is ordered by."""
    rows = list(rows)[:shown]
    top = max((_value(r, order) for r in rows), default=0.0) or 1.0
    height = 30 + len(rows) * (BAR + GAP)
    room = WIDTH - LABEL - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" role="img" aria-label="{escape(TITLES[order])}" class="plot">',
        f'<text x="0" y="16" class="plot-title">{escape(TITLES[order])}</text>',
    ]
    for index, row in enumerate(rows):
        y = 30 + index * (BAR + GAP)
        value = _value(row, order)
        width = max(1.0, room * value / top) if value else 0.0
        name = f"CWE-{row.cwe_id} {row.name}"
        label = name if len(name) <= 44 else name[:43] + "\u2026"
        shown_value = f"{value:.1f}" if order == "time" else f"{value:.0f}"
        parts += [
            f'<text x="{LABEL - 6}" y="{y + BAR - 5}" text-anchor="end" class="plot-label">'
            f"<title>{escape(name)}</title>{escape(label)}</text>",
            f'<rect x="{LABEL}" y="{y}" width="{width:.1f}" height="{BAR}" '
            f'class="plot-bar{" closed" if row.closed else ""}"/>',
            f'<text x="{LABEL + width + 6:.1f}" y="{y + BAR - 5}" class="plot-value">'
            f"{shown_value}</text>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
