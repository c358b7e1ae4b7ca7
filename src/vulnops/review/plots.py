"""The program dashboard's plots (pure): line, column and bar charts built as SVG by hand —
a few dozen shapes each, no third-party JavaScript — every label escaped. Each plot has a
``<title>`` per mark, so a reader hovering sees the exact figure, and its data is the CSV the
dashboard offers beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 40
PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _nice(top: float) -> float:
    """A round upper bound for an axis (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    power = 10 ** len(str(int(top))) / 10 if top >= 1 else 1.0
    for step in (1, 2, 5, 10):
        if top <= step * power:
            return float(step * power)
    return float(10 * power)


def _figure(value: float) -> str:
    """An axis figure as a person reads it: 0.5, 12, 2.5k, 1.2M."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _frame(title: str, unit: str, top: float, height: int = HEIGHT) -> list[str]:
    inner = height - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" role="img" aria-label="{escape(title)}" class="plot">',
        f'<text x="0" y="16" class="plot-title">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + inner - inner * i / 4
        parts += [
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="plot-grid"/>',
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="plot-value">'
            f"{_figure(value)}</text>",
        ]
    parts.append(
        f'<text x="4" y="{TOP + inner / 2:.1f}" class="plot-value" '
        f'transform="rotate(-90 10 {TOP + inner / 2:.1f})">{escape(unit)}</text>'
    )
    return parts


def _x_labels(labels: Sequence[str], step: float, height: int = HEIGHT) -> list[str]:
    every = max(1, len(labels) // 12)
    return [
        f'<text x="{LEFT + step * (i + 0.5):.1f}" y="{height - BOTTOM + 16}" '
        f'text-anchor="middle" class="plot-label">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def lines(labels: Sequence[str], series: Sequence[Series], *, title: str, unit: str) -> Markup:
    """One line per series over ``labels`` (months); a missing value breaks the line."""
    top = _nice(max((v for s in series for v in s.values if v is not None), default=0.0))
    inner = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    parts = _frame(title, unit, top)
    for index, one in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(one.values):
            if value is None:
                runs.append([])
                continue
            x, y = LEFT + step * (i + 0.5), TOP + inner - inner * value / top
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(one.name)} {escape(labels[i])}: {value:.3g} {escape(unit)}"
                "</title></circle>"
            )
        parts += [
            f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" stroke-width="2"/>'
            for run in runs
            if len(run) > 1
        ]
        parts.append(
            f'<text x="{LEFT + 8 + index * 170}" y="{HEIGHT - 4}" class="plot-label" '
            f'fill="{color}">\u25a0 {escape(one.name)}</text>'
        )
    parts += _x_labels(labels, step)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def columns(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str) -> Markup:
    """One column per label (months)."""
    top = _nice(max(values, default=0.0))
    inner = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    parts = _frame(title, unit, top)
    for i, value in enumerate(values):
        height = inner * value / top
        parts.append(
            f'<rect x="{LEFT + step * i + step * 0.15:.1f}" y="{TOP + inner - height:.1f}" '
            f'width="{step * 0.7:.1f}" height="{height:.1f}" class="plot-bar">'
            f"<title>{escape(labels[i])}: {value:.4g} {escape(unit)}</title></rect>"
        )
    parts += _x_labels(labels, step)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


@dataclass(frozen=True)
class Bar:
    label: str
    parts: Sequence[tuple[str, float]]  # (name, value) stacked left to right


def bars(rows: Sequence[Bar], *, title: str, unit: str, stacked: bool) -> Markup:
    """Horizontal bars: stacked (met, missed, open) or side by side (median and p90)."""
    per = 18 if stacked else 26
    height = TOP + 12 + len(rows) * (per + 10) + 20
    totals = [
        sum(v for _, v in row.parts) if stacked else max((v for _, v in row.parts), default=0)
        for row in rows
    ]
    top = max(totals, default=0.0) or 1.0
    label_width, room = 160, WIDTH - 160 - 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" role="img" aria-label="{escape(title)}" class="plot">',
        f'<text x="0" y="16" class="plot-title">{escape(title)}</text>',
    ]
    for index, row in enumerate(rows):
        y = TOP + 8 + index * (per + 10)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + per / 2 + 4:.1f}" text-anchor="end" '
            f'class="plot-label">{escape(row.label)}</text>'
        )
        x = float(label_width)
        for n, (name, value) in enumerate(row.parts):
            width = room * value / top
            color = PALETTE[n % len(PALETTE)]
            bar_y, bar_h = (y, per) if stacked else (y + n * per / 2, per / 2 - 1)
            parts.append(
                f'<rect x="{x:.1f}" y="{bar_y:.1f}" width="{width:.1f}" height="{bar_h:.1f}" '
                f'fill="{color}"><title>{escape(row.label)}, {escape(name)}: {value:.4g} '
                f"{escape(unit)}</title></rect>"
            )
            if stacked:
                x += width
        shown = " / ".join(f"{v:.3g}" for _, v in row.parts)
        end = x if stacked else label_width + room * totals[index] / top
        parts.append(
            f'<text x="{end + 6:.1f}" y="{y + per / 2 + 4:.1f}" class="plot-value">'
            f"{escape(shown)}</text>"
        )
    names = [name for name, _ in rows[0].parts] if rows else []
    parts += [
        f'<text x="{label_width + i * 120}" y="{height - 4}" class="plot-label" '
        f'fill="{PALETTE[i % len(PALETTE)]}">\u25a0 {escape(name)}</text>'
        for i, name in enumerate(names)
    ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
